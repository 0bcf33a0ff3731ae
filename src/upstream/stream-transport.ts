/**
 * DNS over a byte stream (TCP, or TLS for DoT): one long-lived connection, many queries
 * pipelined on it and matched by ID as answers come back in any order (RFC 7766). The
 * connection opens on demand, closes when idle, and a connection that lets a query time out
 * is replaced.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Buffer } from 'node:buffer';
import type { UpstreamProtocol } from '../config/types.js';
import { FrameReader, frame } from '../dns/framing.js';
import { QUERY_PAD_BLOCK, withQueryOptions } from '../dns/edns-options.js';
import { randomId, responseMatches, UpstreamError, type SourceAddress, type Transport } from './transport.js';

interface Pending {
  wire: Buffer;
  /** the connection the query went out on */
  sock: net.Socket;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface StreamOptions {
  host: string;
  port: number;
  /** tls: verify against this name (SNI too); default: the host */
  tlsName?: string;
  /** tls: extra CA (PEM) for private resolvers */
  ca?: string | Buffer;
  idleMs?: number;
  source?: SourceAddress;
}

export class StreamTransport implements Transport {
  private sock: net.Socket | null = null;
  private connecting: Promise<net.Socket> | null = null;
  /** the socket being set up (TCP connect and TLS handshake), so a timeout or close can kill it */
  private connectingSock: net.Socket | null = null;
  readonly pending = new Map<number, Pending>();
  private idleTimer: NodeJS.Timeout | null = null;
  /** connections left by drain(): they close once their last query is answered or timed out */
  private readonly draining = new Set<net.Socket>();
  private tlsSession: Buffer | undefined;
  private closed = false;

  constructor(readonly protocol: Extract<UpstreamProtocol, 'tcp' | 'tls'>, private readonly opts: StreamOptions) {}

  private label(): string {
    return `${this.protocol}://${this.opts.host}:${this.opts.port}`;
  }

  private connect(): Promise<net.Socket> {
    if (this.sock && !this.sock.destroyed) return Promise.resolve(this.sock);
    if (this.connecting) return this.connecting;
    this.connecting = new Promise<net.Socket>((resolve, reject) => {
      const { host, port, source } = this.opts;
      const sock = this.protocol === 'tls'
        ? tls.connect({
          host, port, localAddress: source?.localAddress, servername: this.opts.tlsName ?? (net.isIP(host) ? undefined : host),
          ca: this.opts.ca ? [...tls.rootCertificates, this.opts.ca.toString()] : undefined,
          ALPNProtocols: ['dot'], session: this.tlsSession,
        } as tls.ConnectionOptions) // localAddress reaches net.connect; the typings omit it
        : net.connect({ host, port, localAddress: source?.localAddress });
      this.connectingSock = sock;
      const ready = this.protocol === 'tls' ? 'secureConnect' : 'connect';
      const reader = new FrameReader();
      sock.setNoDelay(true);
      sock.once(ready, () => {
        this.connecting = null;
        this.connectingSock = null;
        this.sock = sock;
        resolve(sock);
      });
      if (sock instanceof tls.TLSSocket) sock.on('session', (s: Buffer) => { this.tlsSession = s; });
      sock.on('data', (chunk: Buffer) => {
        reader.push(chunk);
        for (let msg = reader.next(); msg !== null; msg = reader.next()) this.onMessage(msg);
      });
      const fail = (err: Error) => {
        if (this.connecting && this.sock !== sock) {
          this.connecting = null;
          this.connectingSock = null;
          reject(new UpstreamError('UPSTREAM_NETWORK', `${this.label()}: ${err.message}`, { cause: err }));
        }
      };
      sock.on('error', fail);
      sock.on('close', () => {
        fail(new Error('connection closed'));
        if (this.sock === sock) this.sock = null;
        this.draining.delete(sock);
        // Queries sent on this connection will never be answered on it.
        for (const [id, p] of this.pending) {
          if (p.sock === sock) {
            this.pending.delete(id);
            clearTimeout(p.timer);
            p.reject(new UpstreamError('UPSTREAM_CLOSED', `${this.label()} closed the connection`));
          }
        }
      });
    });
    return this.connecting;
  }

  private onMessage(msg: Buffer): void {
    if (msg.length < 12) return;
    const id = msg.readUInt16BE(0);
    const p = this.pending.get(id);
    if (!p || !responseMatches(p.wire, msg)) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(msg);
    this.releaseDrained(p.sock);
    this.armIdle();
  }

  private releaseDrained(sock: net.Socket): void {
    if (!this.draining.has(sock)) return;
    for (const p of this.pending.values()) if (p.sock === sock) return;
    this.draining.delete(sock);
    sock.end();
  }

  drain(): void {
    this.connectingSock?.destroy(); // bound to the old source: its query fails and is retried
    const old = this.sock;
    this.sock = null;
    if (old === null) return;
    this.draining.add(old);
    this.releaseDrained(old);
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.pending.size > 0) return;
    this.idleTimer = setTimeout(() => {
      if (this.pending.size === 0 && this.sock) this.sock.end();
    }, this.opts.idleMs ?? 10_000);
    this.idleTimer.unref();
  }

  /** The timeout covers the whole exchange: connecting, the TLS handshake and the answer. */
  query(wire: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new UpstreamError('UPSTREAM_CLOSED', `${this.label()} is closed`));
    // Over TLS: ask to keep the connection open (RFC 7828) and pad to 128 bytes (RFC 8467).
    const out = this.protocol === 'tls' ? withQueryOptions(Buffer.from(wire), { keepalive: true, padBlock: QUERY_PAD_BLOCK }) : Buffer.from(wire);
    return new Promise<Buffer>((resolve, reject) => {
      let id = -1;
      let sent: net.Socket | null = null;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (id >= 0) this.pending.delete(id);
        if (sent !== null) this.releaseDrained(sent);
        // A query timing out means the connection (or its set-up) may be dead: replace it.
        if (sent !== null && this.sock === sent) {
          this.sock = null;
          sent.destroy();
        } else if (sent === null) {
          this.connectingSock?.destroy();
        }
        reject(new UpstreamError('UPSTREAM_TIMEOUT', `${this.label()} did not answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.connect().then((sock) => {
        if (timedOut) return;
        id = randomId();
        while (this.pending.has(id)) id = randomId();
        out.writeUInt16BE(id, 0);
        sent = sock;
        this.pending.set(id, { wire: out, sock, resolve, reject, timer });
        if (this.idleTimer) clearTimeout(this.idleTimer);
        sock.write(frame(out));
      }, (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  close(): void {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.sock?.destroy();
    this.connectingSock?.destroy();
    for (const d of this.draining) d.destroy();
    this.draining.clear();
    this.sock = null;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new UpstreamError('UPSTREAM_CLOSED', `${this.label()} closed`));
    }
    this.pending.clear();
  }
}

/**
 * A small pool of stream connections to one upstream (DoT): each query goes to the connection
 * with the fewest queries outstanding, so one slow answer does not hold up the rest.
 */
export class StreamPool implements Transport {
  private readonly members: StreamTransport[];

  constructor(readonly protocol: Extract<UpstreamProtocol, 'tcp' | 'tls'>, opts: StreamOptions, size = 2) {
    this.members = Array.from({ length: size }, () => new StreamTransport(protocol, opts));
  }

  query(wire: Buffer, timeoutMs: number): Promise<Buffer> {
    let best = this.members[0];
    for (const m of this.members) if (m.pending.size < best.pending.size) best = m;
    return best.query(wire, timeoutMs);
  }

  drain(): void {
    for (const m of this.members) m.drain();
  }

  close(): void {
    for (const m of this.members) m.close();
  }
}
