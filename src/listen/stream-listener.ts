/**
 * Stream listeners (TCP and DoT) on one address. Connections are capped: at the cap, the
 * connection idle the longest is closed to make room, and if none is idle the newcomer is refused.
 */
import net from 'node:net';
import tls from 'node:tls';
import { RESPONSE_PAD_BLOCK } from '../dns/constants.js';
import { listenOn, type Listener, type ListenerDeps } from './query-handler.js';
import { StreamSession } from './stream-session.js';

/** Keeps the sessions of one stream listener within the connection cap. */
export class SessionTable {
  readonly sessions = new Set<StreamSession>();

  /** Make room for one more; false when every connection is busy. */
  admit(max: number): boolean {
    if (this.sessions.size < max) return true;
    let oldest: StreamSession | undefined;
    for (const s of this.sessions) if (s.idle && (!oldest || s.lastActive < oldest.lastActive)) oldest = s;
    if (!oldest) return false;
    oldest.sock.destroy();
    this.sessions.delete(oldest);
    return true;
  }

  add(s: StreamSession): void {
    this.sessions.add(s);
    s.sock.once('close', () => this.sessions.delete(s));
  }
}

/**
 * DNS over a stream: TCP, or TLS for DoT (ALPN "dot", RFC 7858). The ACL is checked when the
 * connection arrives, before any TLS handshake, so dropped sources cost nothing.
 */
export class StreamListener implements Listener {
  readonly id: string;
  private server: net.Server | null = null;
  private unregister: (() => void) | null = null;
  readonly table = new SessionTable();

  constructor(
    private readonly transport: 'tcp' | 'dot',
    private readonly address: string,
    private readonly port: number,
    private readonly deps: ListenerDeps,
  ) {
    this.id = `${transport}|${address}|${port}`;
  }

  private onStream(sock: net.Socket): void {
    const address = sock.remoteAddress ?? '';
    const limits = this.deps.limits();
    // DoT drops were counted before the handshake; a dropped source never gets here.
    const action = this.deps.gate.check(address, this.transport);
    if (action === 'drop' || !this.table.admit(limits.maxConnections)) {
      sock.destroy();
      return;
    }
    const client = { address, transport: this.transport, maxSize: 65535, padBlock: this.transport === 'dot' ? RESPONSE_PAD_BLOCK : 0 };
    this.table.add(new StreamSession(sock, client, action === 'refuse', this.deps, limits.idleMs, this.id));
  }

  start(): Promise<void> {
    let server: net.Server;
    if (this.transport === 'dot') {
      const material = this.deps.tls?.();
      if (!material) throw Object.assign(new Error('dot needs tls.cert and tls.key'), { code: 'TLS_MISSING' });
      const s = tls.createServer({ ...material.current, ALPNProtocols: ['dot'], handshakeTimeout: 5000 }, (sock) => this.onStream(sock));
      // Drop before the handshake; refused sources still get REFUSED answers over TLS.
      s.on('connection', (raw: net.Socket) => { if (this.deps.gate.check(raw.remoteAddress ?? '', 'dot') === 'drop') raw.destroy(); });
      s.on('tlsClientError', () => undefined); // scanners and bad clients: not our error
      this.unregister = material.register(s);
      server = s;
    } else {
      server = net.createServer((sock) => this.onStream(sock));
    }
    this.server = server;
    return listenOn(server, this.address, this.port, this.deps, this.id);
  }

  /** Stop accepting; idle connections close now, busy ones once their answers are written. */
  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.unregister?.();
    if (!server) return Promise.resolve();
    for (const s of this.table.sessions) {
      if (s.idle) s.sock.end();
      else s.sock.setTimeout(1, () => { if (s.idle) s.sock.end(); });
    }
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
