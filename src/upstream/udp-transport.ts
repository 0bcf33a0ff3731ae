/**
 * Plain DNS over UDP: a fresh socket (so a fresh kernel-random source port) and a random ID per
 * query, connected to the upstream so the kernel drops datagrams from anyone else; a reply whose
 * ID or question does not match is ignored, not accepted. TC → the same query over TCP.
 *
 * DNS Cookies (RFC 7873 §5.3), the client side: every query carries our client cookie (random,
 * new for each source address) and the server cookie last learned; a reply whose COOKIE does not
 * echo our client cookie is ignored like a spoof, and so is one without a COOKIE from a server
 * known to send them (until a query times out that way: then we stop expecting them). BADCOOKIE
 * → once more with the new server cookie.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { Buffer } from 'node:buffer';
import { Rcode } from '../dns/constants.js';
import { responseCookie, withQueryOptions } from '../dns/edns-options.js';
import { randomId, responseMatches, UpstreamError, type CookieStatus, type SourceAddress, type Transport } from './transport.js';

interface CookieState {
  source: string | undefined;
  client: Buffer;
  server: Buffer | null;
  /** the server has sent us cookies: replies without one are suspect */
  expected: boolean;
}

export class UdpTransport implements Transport {
  readonly protocol = 'udp' as const;
  private readonly open = new Set<dgram.Socket>();
  private cookie: CookieState | null = null;
  /** Replies ignored because their cookie was wrong or missing. */
  cookieRejects = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly tcpFallback: Transport,
    private readonly source: SourceAddress = {},
    private readonly useCookies = true,
  ) {}

  private cookieFor(source: string | undefined): CookieState {
    if (this.cookie === null || this.cookie.source !== source) {
      this.cookie = { source, client: randomBytes(8), server: null, expected: false };
    }
    return this.cookie;
  }

  query(wire: Buffer, timeoutMs: number, retried = false): Promise<Buffer> {
    const source = this.source.localAddress;
    const cookie = this.useCookies ? this.cookieFor(source) : null;
    const out = cookie === null ? Buffer.from(wire)
      : withQueryOptions(Buffer.from(wire), { cookie: cookie.server === null ? cookie.client : Buffer.concat([cookie.client, cookie.server]) });
    out.writeUInt16BE(randomId(), 0);
    let rejected = false;
    return new Promise<Buffer>((resolve, reject) => {
      const sock = dgram.createSocket(isIPv6(this.host) ? 'udp6' : 'udp4');
      this.open.add(sock);
      let done = false;
      const finish = (err: Error | null, res?: Buffer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.open.delete(sock);
        sock.close();
        if (err) reject(err);
        else resolve(res!);
      };
      const timer = setTimeout(() => {
        // Only cookie-less replies came: perhaps the server stopped sending cookies; accept that next time.
        if (rejected && cookie !== null) cookie.expected = false;
        finish(new UpstreamError('UPSTREAM_TIMEOUT', `udp://${this.host}:${this.port} did not answer in ${timeoutMs} ms`));
      }, timeoutMs);
      sock.on('error', (e) => finish(new UpstreamError('UPSTREAM_NETWORK', `udp://${this.host}:${this.port}: ${e.message}`, { cause: e })));
      sock.on('message', (msg) => {
        if (!responseMatches(out, msg)) return; // spoofed or stale: keep waiting
        if (cookie !== null) {
          const opt = responseCookie(msg);
          const c = opt?.cookie ?? null;
          if (c === null ? cookie.expected : c.length < 8 || !c.subarray(0, 8).equals(cookie.client)) {
            rejected = true;
            this.cookieRejects++;
            return; // not an answer to what we sent: keep waiting
          }
          if (c !== null && c.length >= 16) {
            cookie.server = Buffer.from(c.subarray(8));
            cookie.expected = true;
          }
          if (opt !== null && opt.rcode === Rcode.BADCOOKIE && !retried) {
            finish(null, BADCOOKIE);
            return;
          }
        }
        if (msg[2] & 0x02) {
          finish(null, Buffer.alloc(0)); // truncated: the caller below retries over TCP
          return;
        }
        finish(null, msg);
      });
      sock.bind({ port: 0, address: this.source.localAddress }, () => {
        sock.connect(this.port, this.host, () => {
          sock.send(out, (e) => { if (e) finish(new UpstreamError('UPSTREAM_NETWORK', e.message, { cause: e })); });
        });
      });
    }).then((res) => {
      if (res === BADCOOKIE) return this.query(wire, timeoutMs, true);
      return res.length === 0 ? this.tcpFallback.query(wire, timeoutMs) : res;
    });
  }

  drain(): void {
    this.tcpFallback.drain?.(); // each UDP query binds afresh anyway
  }

  cookies(): CookieStatus {
    return { server: this.cookie?.server != null, rejected: this.cookieRejects };
  }

  close(): void {
    for (const s of this.open) s.close();
    this.open.clear();
    this.tcpFallback.close();
  }
}

/** A marker: the server answered BADCOOKIE and gave us a new server cookie. */
const BADCOOKIE = Buffer.alloc(0);
