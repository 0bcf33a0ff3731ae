/**
 * Plain DNS over UDP through a pool of connected sockets on random ports, rotated (see
 * `udp-socket-pool.ts`), with a random ID per query; a reply whose ID or question does not match
 * is ignored, not accepted. TC → the same query over TCP.
 *
 * DNS Cookies (RFC 7873 §5.3), the client side: every query carries our client cookie (random,
 * new for each source address) and the server cookie last learned; a reply whose COOKIE does not
 * echo our client cookie is ignored like a spoof, and so is one without a COOKIE from a server
 * known to send them (until a query times out that way: then we stop expecting them). BADCOOKIE
 * → once more with the new server cookie.
 */
import { randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { Rcode } from '../dns/constants.js';
import { cookieOption, responseCookie, withOption } from '../dns/edns-options.js';
import { responseMatches, UpstreamError, type CookieStatus, type SourceAddress, type Transport } from './transport.js';
import { DEFAULT_UDP_POOL, UdpSocketPool, type UdpPoolLimits } from './udp-socket-pool.js';

interface CookieState {
  source: string | undefined;
  client: Buffer;
  server: Buffer | null;
  /** the COOKIE option every query carries: remade only when the server cookie changes */
  option: Buffer;
  /** the server has sent us cookies: replies without one are suspect */
  expected: boolean;
}

export class UdpTransport implements Transport {
  readonly protocol = 'udp' as const;
  readonly pool: UdpSocketPool;
  private cookie: CookieState | null = null;
  /** Replies ignored because their cookie was wrong or missing. */
  cookieRejects = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly tcpFallback: Transport,
    private readonly source: SourceAddress = {},
    private readonly useCookies = true,
    limits: UdpPoolLimits = DEFAULT_UDP_POOL,
  ) {
    this.pool = new UdpSocketPool(host, port, () => this.source.localAddress, limits);
  }

  private cookieFor(source: string | undefined): CookieState {
    if (this.cookie === null || this.cookie.source !== source) {
      const client = randomBytes(8);
      this.cookie = { source, client, server: null, option: cookieOption(client, null), expected: false };
    }
    return this.cookie;
  }

  query(wire: Buffer, timeoutMs: number, retried = false): Promise<Buffer> {
    const source = this.source.localAddress;
    const cookie = this.useCookies ? this.cookieFor(source) : null;
    const out = cookie === null ? Buffer.from(wire) : withOption(wire, cookie.option);
    let rejected = false;
    return new Promise<Buffer>((resolve, reject) => {
      let done = false;
      let release: () => void = () => undefined;
      const finish = (err: Error | null, res?: Buffer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        release();
        if (err) reject(err);
        // BADCOOKIE: once more with the server cookie it gave; truncated: the same query over TCP.
        else if (res === BADCOOKIE) resolve(this.query(wire, timeoutMs, true));
        else if (res!.length === 0) resolve(this.tcpFallback.query(wire, timeoutMs));
        else resolve(res!);
      };
      const timer = setTimeout(() => {
        // Only cookie-less replies came: perhaps the server stopped sending cookies; accept that next time.
        if (rejected && cookie !== null) cookie.expected = false;
        finish(new UpstreamError('UPSTREAM_TIMEOUT', `udp://${this.host}:${this.port} did not answer in ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (msg: Buffer) => {
        if (!responseMatches(out, msg)) return; // spoofed or stale: keep waiting
        if (cookie !== null) {
          const opt = responseCookie(msg);
          const c = opt?.cookie ?? null;
          if (c === null ? cookie.expected : c.length < 8 || cookie.client.compare(c, 0, 8) !== 0) {
            rejected = true;
            this.cookieRejects++;
            return; // not an answer to what we sent: keep waiting
          }
          if (c !== null && c.length >= 16) {
            if (cookie.server === null || cookie.server.compare(c, 8) !== 0) {
              cookie.server = Buffer.from(c.subarray(8));
              cookie.option = cookieOption(cookie.client, cookie.server);
            }
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
      };
      release = this.pool.send(out, {
        message: onMessage,
        error: (e) => finish(new UpstreamError('UPSTREAM_NETWORK', `udp://${this.host}:${this.port}: ${e.message}`, { cause: e })),
      });
    });
  }

  drain(): void {
    this.pool.drain();
    this.tcpFallback.drain?.();
  }

  cookies(): CookieStatus {
    return { server: this.cookie?.server != null, rejected: this.cookieRejects };
  }

  close(): void {
    this.pool.close();
    this.tcpFallback.close();
  }
}

/** A marker: the server answered BADCOOKIE and gave us a new server cookie. */
const BADCOOKIE = Buffer.alloc(0);
