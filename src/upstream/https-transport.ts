/**
 * DNS over HTTPS (RFC 8484) via undici: POST application/dns-message with DNS ID 0 (§4.1), one
 * HTTP/2 connection multiplexing every query. With `bootstrap` addresses the connection goes to
 * those, so the host name never reaches the system resolver; SNI and certificate checks still use
 * the host name. undici is loaded on first use: it costs ~20 MB of RSS that configs without a
 * DoH upstream should not pay.
 */
import { Buffer } from 'node:buffer';
import { isIPv6 } from 'node:net';
import tls from 'node:tls';
import type { Client } from 'undici';
import { QUERY_PAD_BLOCK, withQueryOptions } from '../dns/edns-options.js';
import { responseMatches, UpstreamError, type SourceAddress, type Transport } from './transport.js';

export interface HttpsOptions {
  host: string;
  port: number;
  path: string;
  tlsName?: string;
  ca?: string | Buffer;
  bootstrap: string[];
  source?: SourceAddress;
}

export class HttpsTransport implements Transport {
  readonly protocol = 'https' as const;
  private client: Promise<Client> | null = null;
  private nextBootstrap = 0;

  constructor(private readonly opts: HttpsOptions) {}

  private getClient(): Promise<Client> {
    this.client ??= import('undici').then(({ Client }) => this.makeClient(Client));
    return this.client;
  }

  private makeClient(Client: typeof import('undici').Client): Client {
    const { host, port, bootstrap, source } = this.opts;
    const origin = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
    return new Client(origin, {
      allowH2: true,
      pipelining: 100,
      keepAliveTimeout: 30_000,
      connectTimeout: 5000,
      connect: {
        servername: this.opts.tlsName ?? host,
        ca: this.opts.ca ? [...tls.rootCertificates, this.opts.ca.toString()] : undefined,
        localAddress: source?.localAddress,
        ...(bootstrap.length > 0 ? {
          // Node 20 connects with happy eyeballs, asking for every address ({ all: true });
          // older callers want one. Either way the answer comes from `bootstrap`, never DNS.
          lookup: (_name: string, o: { all?: boolean }, cb: (e: Error | null, addr: string | Array<{ address: string; family: number }>, family?: number) => void) => {
            const addr = bootstrap[this.nextBootstrap++ % bootstrap.length];
            if (o?.all) cb(null, [...bootstrap.slice(bootstrap.indexOf(addr)), ...bootstrap.slice(0, bootstrap.indexOf(addr))].map((a) => ({ address: a, family: isIPv6(a) ? 6 : 4 })));
            else cb(null, addr, isIPv6(addr) ? 6 : 4);
          },
        } : {}),
      } as Client.Options['connect'],
    });
  }

  async query(wire: Buffer, timeoutMs: number): Promise<Buffer> {
    const out = withQueryOptions(Buffer.from(wire), { padBlock: QUERY_PAD_BLOCK });
    out.writeUInt16BE(0, 0);
    let res;
    let timer: NodeJS.Timeout | undefined;
    try {
      const client = await this.getClient();
      // Our own timer bounds the whole exchange: undici's abort signal does not interrupt a
      // connect in progress, so on expiry the client (and its connection) is replaced.
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          this.replaceClient();
          reject(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { name: 'TimeoutError' }));
        }, timeoutMs);
      });
      res = await Promise.race([client.request({
        method: 'POST', path: this.opts.path, body: out,
        headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message' },
        headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
      }), expired]);
    } catch (err) {
      const code = (err as { code?: string }).code;
      const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || (err as Error).name === 'TimeoutError';
      if (timeout) this.replaceClient(); // a connection that stops answering is replaced
      throw new UpstreamError(timeout ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_NETWORK', `https://${this.opts.host}${this.opts.path}: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    const body = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200) throw new UpstreamError('UPSTREAM_HTTP', `https://${this.opts.host}${this.opts.path}: HTTP ${res.statusCode}`);
    if (!responseMatches(out, body)) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `https://${this.opts.host}${this.opts.path}: answer does not match the question`);
    return body;
  }

  /** The next query makes a new client; `graceful`: the old one finishes its requests first. */
  private replaceClient(graceful = false): void {
    const old = this.client;
    this.client = null;
    old?.then((c) => (graceful ? c.close() : c.destroy())).catch(() => undefined);
  }

  drain(): void {
    this.replaceClient(true);
  }

  close(): void {
    this.replaceClient();
  }
}
