/** What a listener hands queries to (the resolver), and the ACL gate it asks first. */
import type { Buffer } from 'node:buffer';
import type { ClientInfo, StreamReply } from '../resolve/query-context.js';
import type { AclAction } from '../config/types.js';
import type { AclGate } from './acl-gate.js';
import type { TlsMaterial } from './tls-material.js';

export interface QueryHandler {
  /** Several messages (a zone transfer) only for stream transports. */
  handle(query: Buffer, client: ClientInfo): StreamReply;
  refuse(query: Buffer, client: ClientInfo): Buffer | null;
}

export interface ListenerDeps {
  handler: QueryHandler;
  /** Asked per packet/connection; a reload's new rules apply at once. */
  gate: AclGate;
  onError: (err: Error, where: string) => void;
  /** Stream limits, read per connection so a reload applies to new connections. */
  limits: () => StreamLimits;
  /** The certificate for DoT/DoH listeners, when `tls` is configured. */
  tls?: () => TlsMaterial | undefined;
}

export interface StreamLimits {
  idleMs: number;
  maxConnections: number;
}

/** A UDP listener's I/O path and, on the native one, its batch counters. */
export interface UdpIoStatus {
  listener: string;
  io: 'recvmmsg' | 'dgram';
  batches?: number;
  datagrams?: number;
  sendCalls?: number;
  sent?: number;
  sendErrors?: number;
}

export interface Listener {
  readonly id: string;
  /** UDP only: which path carries its datagrams */
  readonly io?: 'recvmmsg' | 'dgram';
  counts?(): Omit<UdpIoStatus, 'listener' | 'io'>;
  start(): Promise<void>;
  /** Stop accepting; resolves when sockets are closed (in-flight TCP replies still written). */
  close(): Promise<void>;
}

/** Listen on one address; later server errors go to `onError`, a failure to bind rejects. */
export function listenOn(server: import('node:net').Server, address: string, port: number, deps: ListenerDeps, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port, ipv6Only: address.includes(':') }, () => {
      server.off('error', reject);
      server.on('error', (e) => deps.onError(e, id));
      resolve();
    });
  });
}

/** A UDP query the gate let through (`allow` or `refuse`), to the handler: both UDP paths use it. */
export function answerUdp(deps: ListenerDeps, action: AclAction, msg: Buffer, address: string): StreamReply {
  const client: ClientInfo = { address, transport: 'udp', maxSize: 0, padBlock: 0 };
  if (action !== 'refuse') return deps.handler.handle(msg, client);
  deps.gate.countRefused('udp');
  return deps.handler.refuse(msg, client);
}
