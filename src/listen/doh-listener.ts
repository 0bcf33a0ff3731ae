/**
 * DNS over HTTPS (RFC 8484) on one address: HTTP/2 and HTTP/1.1 on the same port (ALPN h2 and
 * http/1.1), GET `?dns=` (base64url) and POST `application/dns-message`, and the JSON form for
 * `?name=&type=`. Answers go out as one DATA frame with END_STREAM (some clients reject an empty
 * trailing frame), with `Cache-Control: max-age` = the smallest TTL. The ACL applies as
 * everywhere: `drop` closes the connection, `refuse` answers 403.
 */
import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { Buffer } from 'node:buffer';
import { RESPONSE_PAD_BLOCK } from '../dns/constants.js';
import { minTtl } from '../dns/edns-options.js';
import { ParseStatus, parseQuery } from '../dns/query.js';
import type { ClientInfo } from '../resolve/query-context.js';
import { jsonAnswer, jsonQuery } from './doh-json.js';
import type { Listener, ListenerDeps } from './query-handler.js';

export const MAX_DOH_BODY = 65535;
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_STREAMS = 100;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

type Req = http2.Http2ServerRequest;
type Res = http2.Http2ServerResponse;

/** Send a whole body: one DATA frame with END_STREAM on HTTP/2, a plain response on HTTP/1.1. */
function send(req: Req, res: Res, status: number, headers: Record<string, string | number>, body: Buffer | string): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  const all = { ...headers, 'content-length': buf.length };
  if (req.httpVersionMajor === 2) {
    if (res.stream.destroyed || res.stream.headersSent) return;
    res.stream.respond({ ':status': status, ...all });
    res.stream.end(buf);
  } else {
    res.writeHead(status, all);
    res.end(buf);
  }
}

function fail(req: Req, res: Res, status: number, message: string, extra: Record<string, string> = {}): void {
  send(req, res, status, { 'content-type': 'text/plain; charset=utf-8', ...extra }, `${message}\n`);
}

function wantsJson(headers: IncomingHttpHeaders, params: URLSearchParams): boolean {
  return (headers.accept ?? '').includes('application/dns-json') || params.get('ct') === 'application/dns-json' || (params.has('name') && !params.has('dns'));
}

export class DohListener implements Listener {
  readonly id: string;
  private server: http2.Http2SecureServer | null = null;
  private unregister: (() => void) | null = null;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly address: string, private readonly port: number, private readonly path: string, private readonly deps: ListenerDeps) {
    this.id = `doh|${address}|${port}`;
  }

  start(): Promise<void> {
    const material = this.deps.tls?.();
    if (!material) throw Object.assign(new Error('doh needs tls.cert and tls.key'), { code: 'TLS_MISSING' });
    const idleMs = this.deps.limits().idleMs;
    const server = http2.createSecureServer({
      ...material.current,
      allowHTTP1: true,
      ALPNProtocols: ['h2', 'http/1.1'],
      settings: { maxConcurrentStreams: MAX_STREAMS, maxHeaderListSize: MAX_HEADER_BYTES },
      maxSessionInvalidFrames: 100,
    }, (req, res) => this.onRequest(req, res));
    // HTTP/2 sessions close gracefully (GOAWAY) when idle; the socket timeout covers HTTP/1.1
    // keep-alive and handshakes that never finish. HTTP/1.1 headers are capped by Node (16 KB).
    server.on('session', (session) => session.setTimeout(idleMs, () => session.close()));
    server.on('connection', (sock: net.Socket) => {
      if (this.deps.acl().check(sock.remoteAddress ?? '') === 'drop') {
        sock.destroy();
        return;
      }
      sock.setTimeout(idleMs + 1000, () => sock.destroy());
      this.sockets.add(sock);
      sock.once('close', () => this.sockets.delete(sock));
    });
    server.on('tlsClientError', () => undefined);
    server.on('sessionError', () => undefined);
    this.unregister = material.register(server);
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

  private onRequest(req: Req, res: Res): void {
    res.on('error', () => undefined);
    const url = new URL(req.url, 'https://doh.invalid');
    if (url.pathname !== this.path) return fail(req, res, 404, 'not found');
    const address = req.socket?.remoteAddress ?? '';
    if (this.deps.acl().check(address) !== 'allow') return fail(req, res, 403, 'refused by the access list');
    const json = req.method === 'GET' && wantsJson(req.headers, url.searchParams);
    if (req.method === 'GET') {
      if (json) {
        const q = jsonQuery(url.searchParams);
        if (typeof q === 'string') return fail(req, res, 400, q);
        return this.answer(req, res, q, address, true);
      }
      const dns = url.searchParams.get('dns');
      if (dns === null || !BASE64URL.test(dns)) return fail(req, res, 400, 'expected ?dns= with a base64url DNS message');
      const wire = Buffer.from(dns, 'base64url');
      if (wire.length > MAX_DOH_BODY) return fail(req, res, 413, 'message too large');
      return this.answer(req, res, wire, address, false);
    }
    if (req.method === 'POST') {
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/dns-message') return fail(req, res, 415, 'expected content-type application/dns-message');
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > MAX_DOH_BODY) return fail(req, res, 413, 'message too large');
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_DOH_BODY) {
          if (!over) fail(req, res, 413, 'message too large');
          over = true;
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => { if (!over) this.answer(req, res, Buffer.concat(chunks), address, false); });
      return;
    }
    fail(req, res, 405, 'use GET or POST', { allow: 'GET, POST' });
  }

  private answer(req: Req, res: Res, wire: Buffer, address: string, json: boolean): void {
    const status = parseQuery(wire).status;
    if (status === ParseStatus.DROP || status === ParseStatus.FORMERR) return fail(req, res, 400, 'not a DNS query');
    const client: ClientInfo = { address, transport: 'doh', maxSize: 65535, padBlock: RESPONSE_PAD_BLOCK };
    const deliver = (reply: Buffer | null) => {
      if (reply === null) return fail(req, res, 400, 'not a DNS query');
      const maxAge = minTtl(reply);
      if (json) {
        send(req, res, 200, { 'content-type': 'application/dns-json', 'cache-control': `max-age=${maxAge}` }, JSON.stringify(jsonAnswer(reply)));
      } else {
        send(req, res, 200, { 'content-type': 'application/dns-message', 'cache-control': `max-age=${maxAge}` }, reply);
      }
    };
    try {
      const r = this.deps.handler.handle(wire, client);
      if (r instanceof Promise) r.then(deliver, (e: Error) => { this.deps.onError(e, this.id); fail(req, res, 500, 'internal error'); });
      else deliver(r);
    } catch (e) {
      this.deps.onError(e as Error, this.id);
      fail(req, res, 500, 'internal error');
    }
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.unregister?.();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      // Idle keep-alive connections would hold close() open; answers in flight get a moment.
      setTimeout(() => { for (const s of this.sockets) s.destroy(); }, 1000).unref();
    });
  }
}
