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
import { responseMatches, UpstreamError, type AnswerSink, type CookieStatus, type SourceAddress, type Transport } from './transport.js';
import { DeadlineQueue } from './deadline-queue.js';
import { DEFAULT_UDP_POOL, UdpSocketPool, type PoolTicket, type PoolWaiter, type UdpPoolLimits } from './udp-socket-pool.js';

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
  /** one per timeout in use (in practice one: the group's per-attempt timeout) */
  private readonly timeouts = new Map<number, DeadlineQueue<UdpExchange>>();

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

  query(wire: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => this.ask(wire, timeoutMs, { answered: resolve, failed: reject }));
  }

  ask(wire: Buffer, timeoutMs: number, to: AnswerSink, retried = false): void {
    const cookie = this.useCookies ? this.cookieFor(this.source.localAddress) : null;
    const out = cookie === null ? Buffer.from(wire) : withOption(wire, cookie.option);
    const x = new UdpExchange(this, wire, out, cookie, timeoutMs, retried, to);
    try {
      x.ticket = this.pool.send(out, x);
    } catch (e) {
      x.error(e as Error); // a socket that cannot take the datagram: this attempt fails, as any other
    }
  }

  deadlines(timeoutMs: number): DeadlineQueue<UdpExchange> {
    let q = this.timeouts.get(timeoutMs);
    if (q === undefined) this.timeouts.set(timeoutMs, (q = new DeadlineQueue<UdpExchange>(timeoutMs)));
    return q;
  }

  /** The exchange's answer: BADCOOKIE → once more with the new server cookie; truncated → the same query over TCP. */
  settle(x: UdpExchange, res: Buffer, to: AnswerSink): void {
    if (res === BADCOOKIE) this.ask(x.wire, x.timeoutMs, to, true);
    else if (res === TRUNCATED) this.tcpFallback.query(x.wire, x.timeoutMs).then((b) => to.answered(b), (e: Error) => to.failed(e));
    else to.answered(res);
  }

  get name(): string {
    return `udp://${this.host}:${this.port}`;
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

/**
 * One query in flight: its state in one object that is also the pool's waiter and its entry in
 * the transport's deadline queue (the miss path makes one per upstream query).
 */
class UdpExchange implements PoolWaiter {
  ticket: PoolTicket | null = null;
  private done = false;
  /** a reply came with a wrong or missing cookie */
  private rejected = false;
  private readonly deadlines: DeadlineQueue<UdpExchange>;
  private readonly deadline: number;

  constructor(
    private readonly t: UdpTransport,
    readonly wire: Buffer,
    private readonly out: Buffer,
    private readonly cookie: CookieState | null,
    readonly timeoutMs: number,
    private readonly retried: boolean,
    private readonly to: AnswerSink,
  ) {
    this.deadlines = t.deadlines(timeoutMs);
    this.deadline = this.deadlines.add(this);
  }

  private finish(err: Error | null, res: Buffer | null): void {
    if (this.done) return;
    this.done = true;
    this.deadlines.cancel(this.deadline);
    this.ticket?.done((this.out[0] << 8) | this.out[1]);
    if (err !== null) this.to.failed(err);
    else this.t.settle(this, res!, this.to);
  }

  expire(): void {
    // Only cookie-less replies came: perhaps the server stopped sending cookies; accept that next time.
    if (this.rejected && this.cookie !== null) this.cookie.expected = false;
    this.finish(new UpstreamError('UPSTREAM_TIMEOUT', `${this.t.name} did not answer in ${this.timeoutMs} ms`), null);
  }

  message(msg: Buffer): void {
    if (!responseMatches(this.out, msg)) return; // spoofed or stale: keep waiting
    const cookie = this.cookie;
    if (cookie !== null) {
      const opt = responseCookie(msg);
      const c = opt?.cookie ?? null;
      if (c === null ? cookie.expected : c.length < 8 || cookie.client.compare(c, 0, 8) !== 0) {
        this.rejected = true;
        this.t.cookieRejects++;
        return; // not an answer to what we sent: keep waiting
      }
      if (c !== null && c.length >= 16) {
        if (cookie.server === null || cookie.server.compare(c, 8) !== 0) {
          cookie.server = Buffer.from(c.subarray(8));
          cookie.option = cookieOption(cookie.client, cookie.server);
        }
        cookie.expected = true;
      }
      if (opt !== null && opt.rcode === Rcode.BADCOOKIE && !this.retried) {
        this.finish(null, BADCOOKIE);
        return;
      }
    }
    if (msg[2] & 0x02) {
      this.finish(null, TRUNCATED); // the transport retries over TCP
      return;
    }
    this.finish(null, msg);
  }

  error(e: Error): void {
    this.finish(new UpstreamError('UPSTREAM_NETWORK', `${this.t.name}: ${e.message}`, { cause: e }), null);
  }
}

/** A marker: the reply was truncated. */
const TRUNCATED = Buffer.alloc(0);
