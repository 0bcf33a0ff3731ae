/**
 * DNS over TCP on one address. Connections are capped: at the cap, the connection idle the
 * longest is closed to make room, and if none is idle the newcomer is refused.
 */
import net from 'node:net';
import type { Listener, ListenerDeps } from './query-handler.js';
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

  get inflight(): number {
    let n = 0;
    for (const s of this.sessions) n += s.inflight;
    return n;
  }
}

export class TcpListener implements Listener {
  readonly id: string;
  private server: net.Server | null = null;
  readonly table = new SessionTable();

  constructor(private readonly address: string, private readonly port: number, private readonly deps: ListenerDeps) {
    this.id = `tcp|${address}|${port}`;
  }

  start(): Promise<void> {
    const server = net.createServer((sock) => {
      const address = sock.remoteAddress ?? '';
      const action = this.deps.acl().check(address);
      const limits = this.deps.limits();
      if (action === 'drop' || !this.table.admit(limits.maxConnections)) {
        sock.destroy();
        return;
      }
      const client = { address, transport: 'tcp' as const, maxSize: 65535, padBlock: 0 };
      this.table.add(new StreamSession(sock, client, action === 'refuse', this.deps, limits.idleMs, this.id));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.address, port: this.port, ipv6Only: net.isIPv6(this.address) }, () => {
        server.off('error', reject);
        server.on('error', (e) => this.deps.onError(e, this.id));
        resolve();
      });
    });
  }

  /** Stop accepting; idle connections close now, busy ones once their answers are written. */
  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    for (const s of this.table.sessions) {
      if (s.idle) s.sock.end();
      else s.sock.setTimeout(1, () => { if (s.idle) s.sock.end(); });
    }
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
