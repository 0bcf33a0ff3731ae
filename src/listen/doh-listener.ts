/**
 * DNS over HTTPS (RFC 8484) on one address: HTTP/2 and HTTP/1.1 on the same port (ALPN h2 and
 * http/1.1), GET `?dns=` (base64url) and POST `application/dns-message`, and the JSON form for
 * `?name=&type=`. Answers go out as one DATA frame with END_STREAM (some clients reject an empty
 * trailing frame), with `Cache-Control: max-age` = the smallest TTL. The ACL applies as
 * everywhere: `drop` closes the connection, `refuse` answers 403.
 *
 * HTTP/2 is our own lean server (`h2/h2-session.ts`) on the TLS socket: Node's http2 costs a
 * stream object, header objects and a respond() per request, about 28 µs of the ~40 µs a
 * request took. HTTP/1.1 (ALPN http/1.1, or none) goes to a node:http server on the same socket.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { Buffer } from 'node:buffer';
import { RESPONSE_PAD_BLOCK } from '../dns/constants.js';
import { minTtl } from '../dns/edns-options.js';
import { ParseStatus, parseQuery } from '../dns/query.js';
import type { ClientInfo } from '../resolve/query-context.js';
import { PendingReply } from '../resolve/pending-reply.js';
import { jsonAnswer, jsonQuery } from './doh-json.js';
import { listenOn, type Listener, type ListenerDeps } from './query-handler.js';
import { Code, H2Session, type H2Counters } from './h2/h2-session.js';

export const MAX_DOH_BODY = 65535;
const MAX_HEADER_BYTES = 16 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Protocol-neutral view of one request: the HTTP/2 stream path and the HTTP/1.1 path share it. */
interface DohRequest {
  method: string;
  /** path with query string */
  path: string;
  accept: string;
  contentType: string;
  contentLength: number;
  address: string;
  /** reads the body; at most `limit` bytes, else resolves null */
  body(limit: number): Promise<Buffer | null>;
  respond(status: number, headers: Record<string, string | number>, body: Buffer): void;
}

function readBody(src: import('node:stream').Readable, limit: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    src.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    src.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    src.on('error', () => resolve(null));
  });
}

function text(req: DohRequest, status: number, message: string, extra: Record<string, string> = {}): void {
  req.respond(status, { 'content-type': 'text/plain; charset=utf-8', ...extra }, Buffer.from(`${message}\n`));
}

export class DohListener implements Listener {
  readonly id: string;
  private server: tls.Server | null = null;
  private h1: http.Server | null = null;
  private unregister: (() => void) | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<H2Session>();
  /** HTTP/2 connections and streams refused, by reason (shared by every DoH listener: /metrics) */
  static readonly h2Counters: H2Counters = {};

  constructor(private readonly address: string, private readonly port: number, private readonly path: string, private readonly deps: ListenerDeps) {
    this.id = `doh|${address}|${port}`;
  }

  start(): Promise<void> {
    const material = this.deps.tls?.();
    if (!material) throw Object.assign(new Error('doh needs tls.cert and tls.key'), { code: 'TLS_MISSING' });
    const idleMs = this.deps.limits().idleMs;
    const server = tls.createServer({ ...material.current, ALPNProtocols: ['h2', 'http/1.1'] });
    const h1 = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => this.onHttp1(req, res));
    h1.keepAliveTimeout = idleMs;
    h1.headersTimeout = Math.min(idleMs, 10_000);
    h1.on('clientError', (_e, sock: net.Socket) => sock.destroy());
    server.on('connection', (sock: net.Socket) => {
      // Before any TLS work: a dropped source gets nothing at all.
      if (this.deps.gate.check(sock.remoteAddress ?? '', 'doh') === 'drop') {
        sock.destroy();
        return;
      }
      sock.setNoDelay(true); // small answers: Nagle would hold them back
      this.sockets.add(sock);
      sock.once('close', () => this.sockets.delete(sock));
    });
    server.on('secureConnection', (sock: tls.TLSSocket) => {
      if (sock.alpnProtocol !== 'h2') {
        sock.setTimeout(idleMs, () => sock.destroy());
        h1.emit('connection', sock);
        return;
      }
      const address = sock.remoteAddress ?? '';
      const session = new H2Session(sock, (r, res) => this.handle({
        method: r.method, path: r.path, accept: r.accept, contentType: r.contentType, contentLength: r.contentLength, address,
        body: () => Promise.resolve(r.body),
        respond: (status, h, body) => res.respond(status, h, body),
      }), DohListener.h2Counters);
      this.sessions.add(session);
      sock.once('close', () => this.sessions.delete(session));
      // Idle for limits.tcp-idle-timeout: told to go (GOAWAY NO_ERROR), closed a second later.
      sock.setTimeout(idleMs, () => session.goaway(Code.NO_ERROR, null));
    });
    server.on('tlsClientError', () => undefined);
    this.unregister = material.register(server);
    this.server = server;
    this.h1 = h1;
    return listenOn(server, this.address, this.port, this.deps, this.id);
  }

  private onHttp1(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.on('error', () => undefined);
    this.handle({
      method: req.method ?? '',
      path: req.url ?? '/',
      accept: String(req.headers.accept ?? ''),
      contentType: String(req.headers['content-type'] ?? ''),
      contentLength: Number(req.headers['content-length'] ?? 0),
      address: req.socket?.remoteAddress ?? '',
      body: (limit) => readBody(req, limit),
      respond: (status, h, body) => {
        res.writeHead(status, { ...h, 'content-length': body.length });
        res.end(body);
      },
    });
  }

  private handle(req: DohRequest): void {
    const q = req.path.indexOf('?');
    const pathname = q < 0 ? req.path : req.path.slice(0, q);
    if (pathname !== this.path) return text(req, 404, 'not found');
    // Decided per request (the connection was admitted): refuse is the only answer left; counted.
    if (this.deps.gate.check(req.address, 'doh') !== 'allow') {
      this.deps.gate.countRefused('doh');
      return text(req, 403, 'refused by the access list');
    }
    if (req.method === 'GET' && q >= 0 && req.path.startsWith('dns=', q + 1) && req.path.indexOf('&', q) < 0 && !req.accept.includes('application/dns-json')) {
      // The form every DoH client sends: ?dns= alone. Read without a URLSearchParams.
      const dns = req.path.slice(q + 5);
      if (!BASE64URL.test(dns)) return text(req, 400, 'expected ?dns= with a base64url DNS message');
      const wire = Buffer.from(dns, 'base64url');
      if (wire.length > MAX_DOH_BODY) return text(req, 413, 'message too large');
      return this.answer(req, wire, false);
    }
    const params = new URLSearchParams(q < 0 ? '' : req.path.slice(q + 1));
    if (req.method === 'GET') {
      if (req.accept.includes('application/dns-json') || params.get('ct') === 'application/dns-json' || (params.has('name') && !params.has('dns'))) {
        const wire = jsonQuery(params);
        if (typeof wire === 'string') return text(req, 400, wire);
        return this.answer(req, wire, true);
      }
      const dns = params.get('dns');
      if (dns === null || !BASE64URL.test(dns)) return text(req, 400, 'expected ?dns= with a base64url DNS message');
      const wire = Buffer.from(dns, 'base64url');
      if (wire.length > MAX_DOH_BODY) return text(req, 413, 'message too large');
      return this.answer(req, wire, false);
    }
    if (req.method === 'POST') {
      if (req.contentType.split(';')[0].trim().toLowerCase() !== 'application/dns-message') {
        return text(req, 415, 'expected content-type application/dns-message');
      }
      if (req.contentLength > MAX_DOH_BODY) return text(req, 413, 'message too large');
      req.body(MAX_DOH_BODY).then((body) => {
        if (body === null) text(req, 413, 'message too large');
        else this.answer(req, body, false);
      });
      return;
    }
    text(req, 405, 'use GET or POST', { allow: 'GET, POST' });
  }

  private answer(req: DohRequest, wire: Buffer, json: boolean): void {
    const status = parseQuery(wire).status;
    if (status === ParseStatus.DROP || status === ParseStatus.FORMERR) return text(req, 400, 'not a DNS query');
    const client: ClientInfo = { address: req.address, transport: 'doh', maxSize: 65535, padBlock: RESPONSE_PAD_BLOCK };
    const deliver = (reply: Buffer | null) => {
      if (reply === null) return text(req, 400, 'not a DNS query');
      const cacheControl = `max-age=${minTtl(reply)}`;
      if (json) req.respond(200, { 'content-type': 'application/dns-json', 'cache-control': cacheControl }, Buffer.from(JSON.stringify(jsonAnswer(reply))));
      else req.respond(200, { 'content-type': 'application/dns-message', 'cache-control': cacheControl }, reply);
    };
    try {
      const r = this.deps.handler.handle(wire, client);
      if (r instanceof PendingReply) {
        r.on((_, b, err) => {
          if (err === null) return deliver(b);
          this.deps.onError(err, this.id);
          text(req, 500, 'internal error');
        }, null);
      }
      else deliver(Array.isArray(r) ? null : r); // transfers are for streams only: never made for DoH
    } catch (e) {
      this.deps.onError(e as Error, this.id);
      text(req, 500, 'internal error');
    }
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.unregister?.();
    if (!server) return Promise.resolve();
    // HTTP/2 clients are told to go (GOAWAY NO_ERROR: answers in flight still go out).
    for (const s of this.sessions) s.goaway(Code.NO_ERROR, null);
    this.h1?.closeIdleConnections();
    return new Promise((resolve) => {
      server.close(() => resolve());
      // Idle keep-alive connections would hold close() open; answers in flight get a moment.
      setTimeout(() => { for (const s of this.sockets) s.destroy(); }, 1000).unref();
    });
  }
}
