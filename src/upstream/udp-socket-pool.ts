/**
 * The UDP sockets plain-DNS queries to one upstream leave through: a few connected sockets, each
 * on a kernel-chosen random port, shared by the queries in flight (a random ID each, unique on
 * its socket), and rotated — a socket is retired after so many queries or so long — so the source
 * port keeps changing (RFC 5452) without a socket, bind and connect per query. A retired socket
 * closes once its last query is done. Connected sockets mean the kernel drops datagrams from
 * anyone but the upstream; the caller still checks ID and question.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Buffer } from 'node:buffer';
import { randomId } from './transport.js';

import type { UdpPoolLimits } from '../config/types.js';

export type { UdpPoolLimits };

export const DEFAULT_UDP_POOL: UdpPoolLimits = { sockets: 16, queriesPerSocket: 100, socketLifetimeMs: 10_000 };

export interface PoolWaiter {
  /** every datagram with this query's ID */
  message(msg: Buffer): void;
  /** the socket failed (or could not be opened) */
  error(err: Error): void;
}

class PooledSocket {
  readonly sock: dgram.Socket;
  readonly waiters = new Map<number, PoolWaiter>();
  readonly born = Date.now();
  used = 0;
  retired = false;
  private ready = false;
  private queued: Buffer[] = [];

  constructor(host: string, port: number, readonly source: string | undefined, onDead: (s: PooledSocket) => void) {
    this.sock = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    this.sock.on('message', (msg) => {
      if (msg.length < 2) return;
      this.waiters.get(msg.readUInt16BE(0))?.message(msg);
    });
    this.sock.on('error', (err) => {
      // An ICMP error or a bind failure: every query on it fails now, and the socket goes.
      this.retired = true;
      const ws = [...this.waiters.values()];
      this.waiters.clear();
      for (const w of ws) w.error(err);
      onDead(this);
      this.close();
    });
    this.sock.bind({ port: 0, address: source }, () => {
      this.sock.connect(port, host, () => {
        this.ready = true;
        for (const b of this.queued) this.sock.send(b);
        this.queued = [];
      });
    });
  }

  send(b: Buffer): void {
    if (this.ready) this.sock.send(b);
    else this.queued.push(b);
  }

  done(id: number): void {
    this.waiters.delete(id);
    if (this.retired && this.waiters.size === 0) this.close();
  }

  private closed = false;
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try { this.sock.close(); } catch { /* already closed */ }
  }
}

export class UdpSocketPool {
  private readonly slots: Array<PooledSocket | null>;
  private next = 0;
  /** sockets opened over the pool's life (for tests and stats) */
  opened = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly source: () => string | undefined,
    private readonly limits: UdpPoolLimits = DEFAULT_UDP_POOL,
  ) {
    this.slots = new Array<PooledSocket | null>(Math.max(1, limits.sockets)).fill(null);
  }

  /**
   * Send `out` with an ID of ours written into it; `w` hears every datagram carrying that ID
   * until the returned function is called.
   */
  send(out: Buffer, w: PoolWaiter): () => void {
    const s = this.pick();
    let id = randomId();
    while (s.waiters.has(id)) id = randomId();
    out.writeUInt16BE(id, 0);
    s.waiters.set(id, w);
    s.used++;
    s.send(out);
    return () => s.done(id);
  }

  private pick(): PooledSocket {
    const i = this.next;
    this.next = (i + 1) % this.slots.length;
    let s = this.slots[i];
    const source = this.source();
    if (s !== null && (s.retired || s.used >= this.limits.queriesPerSocket || Date.now() - s.born >= this.limits.socketLifetimeMs || s.source !== source)) {
      this.retire(s);
      s = null;
    }
    if (s === null) {
      s = new PooledSocket(this.host, this.port, source, (dead) => { if (this.slots[i] === dead) this.slots[i] = null; });
      this.slots[i] = s;
      this.opened++;
    }
    return s;
  }

  private retire(s: PooledSocket): void {
    s.retired = true;
    const i = this.slots.indexOf(s);
    if (i >= 0) this.slots[i] = null;
    if (s.waiters.size === 0) s.close();
  }

  /** New queries go out on new sockets (another uplink); those under way finish on the old. */
  drain(): void {
    for (const s of this.slots) if (s !== null) this.retire(s);
  }

  close(): void {
    for (const s of this.slots) s?.close();
    this.slots.fill(null);
  }
}
