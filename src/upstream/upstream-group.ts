/**
 * A set of upstreams asked per `upstream-strategy`: `ordered` (first healthy, then the next on
 * timeout or failure), `fastest` (lowest RTT EWMA, exploring another 1 time in 20) or
 * `round-robin`. Passive health: three failures in a row mark an upstream down for a backoff that
 * grows to 30 s; down upstreams are tried only after the healthy ones.
 */
import type { Buffer } from 'node:buffer';
import type { UpstreamConfig, UpstreamStrategy } from '../config/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from 'pino';
import { Rcode } from '../dns/constants.js';
import { isIPv6 } from 'node:net';
import type { UplinkRoute, UplinkSource } from '../uplinks/uplink-source.js';
import { UpstreamError, type AnswerSink, type SourceAddress, type Transport } from './transport.js';
import { EdgeError } from '../errors.js';

export interface UpstreamStats {
  name: string;
  url: string;
  protocol: string;
  state: 'up' | 'down';
  /** ms, EWMA; null before the first answer */
  rtt: number | null;
  queries: number;
  errors: number;
  lastError?: string;
  /** the uplink its sockets leave through; null without multi-WAN */
  uplink: string | null;
  /** plain UDP: DNS Cookies with this upstream (RFC 7873) */
  cookies?: { server: boolean; rejected: number };
}

/** Who hears how a group's `ask` ended: one of the two, once. */
export interface GroupSink {
  answered(res: Buffer, upstream: string, uplink: string | undefined): void;
  failed(err: Error): void;
}

interface Member {
  cfg: UpstreamConfig;
  /** where its sockets bind, and through which uplink its answers come */
  route: RouteSource;
  transport: Transport;
  stats: UpstreamStats;
  failuresInRow: number;
  downUntil: number;
  /** the uplink and source address its connections were made for */
  boundTo: string;
}

/** Answers worth trying another upstream for. */
const RETRY_RCODES = new Set<number>([Rcode.SERVFAIL, Rcode.REFUSED, Rcode.NOTIMP, Rcode.FORMERR]);
const FAILS_TO_DOWN = 3;
const EXPLORE_EVERY = 20;

/** An answer and the upstream that gave it. */
export interface UpstreamAnswer {
  wire: Buffer;
  upstream: string;
  /** the uplink it came through; undefined without multi-WAN */
  uplink?: string;
}

export class AllUpstreamsFailed extends EdgeError<'UPSTREAM_ALL_FAILED'> {
  constructor(readonly errors: Error[], readonly lastAnswer?: Buffer) {
    super('UPSTREAM_ALL_FAILED', `every upstream failed: ${errors.map((e) => e.message).join('; ')}`, { cause: errors[0] });
  }
}

export class UpstreamGroup {
  private readonly members: Member[];
  private rr = 0;
  private asked = 0;
  private readonly unsubscribe: () => void;

  constructor(
    upstreams: UpstreamConfig[],
    private readonly strategy: UpstreamStrategy,
    private readonly timeoutMs: number,
    makeTransport: (u: UpstreamConfig, source: SourceAddress) => Transport,
    private readonly clock: Clock,
    private readonly log?: Logger,
    private readonly uplinks?: UplinkSource | null,
  ) {
    this.members = upstreams.map((cfg) => {
      const route = new RouteSource(uplinks, cfg.url, familyOf(cfg));
      return {
        cfg,
        route,
        transport: makeTransport(cfg, route),
        stats: { name: cfg.name, url: cfg.url, protocol: cfg.protocol, state: 'up', rtt: null, queries: 0, errors: 0, uplink: null },
        failuresInRow: 0,
        downUntil: 0,
        boundTo: route.binding,
      };
    });
    this.unsubscribe = uplinks?.onChange(() => this.onUplinkChange()) ?? (() => undefined);
  }

  /** Another uplink (or address): move connections over; failures on the old one are forgiven. */
  private onUplinkChange(): void {
    for (const m of this.members) {
      const now = m.route.binding;
      if (now === m.boundTo) continue;
      m.boundTo = now;
      m.transport.drain?.();
      m.failuresInRow = 0;
      m.downUntil = 0;
      m.stats.state = 'up';
    }
  }

  private order(): Member[] {
    const now = this.clock.now();
    let list = this.members;
    if (this.strategy === 'round-robin') {
      const start = this.rr++ % list.length;
      list = [...list.slice(start), ...list.slice(0, start)];
    } else if (this.strategy === 'fastest') {
      list = [...list].sort((a, b) => (a.stats.rtt ?? 0) - (b.stats.rtt ?? 0));
      if (++this.asked % EXPLORE_EVERY === 0 && list.length > 1) {
        const i = 1 + Math.floor(Math.random() * (list.length - 1));
        list = [list[i], ...list.slice(0, i), ...list.slice(i + 1)];
      }
    }
    let down = 0;
    for (let i = 0; i < list.length; i++) if (list[i].downUntil > now) down++;
    if (down === 0) return list; // the common case, without an array per query
    return [...list.filter((m) => m.downUntil <= now), ...list.filter((m) => m.downUntil > now)];
  }

  /** Ask until one upstream gives a usable answer; rejects with AllUpstreamsFailed. */
  resolve(wire: Buffer): Promise<UpstreamAnswer> {
    return new Promise<UpstreamAnswer>((resolve, reject) => this.ask(wire, {
      answered: (res, upstream, uplink) => resolve({ wire: res, upstream, uplink }),
      failed: reject,
    }));
  }

  /** `resolve` without a Promise (the miss path): the outcome goes to `to`, once. */
  ask(wire: Buffer, to: GroupSink): void {
    new Attempts(this, wire, this.order(), to).next();
  }

  /** @internal the uplink the answer of `m` came through, for the query log */
  uplinkOf(m: Member): string | undefined {
    return m.route.uplink;
  }

  /** @internal the uplink selection's generation (undefined without multi-WAN) */
  get generation(): number | undefined {
    return this.uplinks?.generation;
  }

  /** @internal per-try timeout, ms */
  get timeout(): number {
    return this.timeoutMs;
  }

  /** @internal */
  get now(): number {
    return this.clock.now();
  }

  /** @internal the attempt on `m` got an answer in `rtt` ms */
  onSuccess(m: Member, rtt: number): void {
    m.failuresInRow = 0;
    m.downUntil = 0;
    if (m.stats.state === 'down') this.log?.info({ upstream: this.describe(m) }, 'upstream up');
    m.stats.state = 'up';
    m.stats.rtt = m.stats.rtt === null ? rtt : m.stats.rtt * 0.8 + rtt * 0.2;
  }

  /** @internal the attempt on `m` failed */
  onFailure(m: Member, err: Error): void {
    m.stats.errors++;
    m.stats.lastError = err.message;
    m.failuresInRow++;
    if (m.failuresInRow >= FAILS_TO_DOWN) {
      const backoff = Math.min(30_000, 1000 * 2 ** (m.failuresInRow - FAILS_TO_DOWN));
      m.downUntil = this.clock.now() + backoff;
      if (m.stats.state === 'up') this.log?.warn({ upstream: this.describe(m), backoffMs: backoff }, 'upstream down');
      m.stats.state = 'down';
    }
  }

  private describe(m: Member) {
    const { name, url, protocol, rtt, queries, errors, lastError } = m.stats;
    return { name, url, protocol, rtt: rtt === null ? null : Math.round(rtt * 10) / 10, queries, errors, lastError };
  }

  stats(): UpstreamStats[] {
    return this.members.map((m) => ({
      ...m.stats, uplink: m.route.uplink ?? null,
      ...(m.transport.cookies ? { cookies: m.transport.cookies() } : {}),
    }));
  }

  close(): void {
    this.unsubscribe();
    for (const m of this.members) m.transport.close();
  }
}

/**
 * One upstream's route: the source address its sockets bind and the uplink its answers come
 * through, worked out again only when the uplinks' generation moves (it bumps on every change of
 * selection or address), because the UDP transport reads the address on every query and the
 * query log the uplink on every answer.
 */
class RouteSource implements SourceAddress {
  private generation = -1;
  private current: UplinkRoute | null = null;

  constructor(private readonly uplinks: UplinkSource | null | undefined, private readonly flow: string, private readonly family: 4 | 6) {}

  get localAddress(): string | undefined {
    return this.now()?.address;
  }

  get uplink(): string | undefined {
    return this.now()?.uplink;
  }

  /** uplink and address as one string: what an upstream's connections were made for */
  get binding(): string {
    const r = this.now();
    return r ? `${r.uplink} ${r.address ?? ''}` : '';
  }

  private now(): UplinkRoute | null {
    const u = this.uplinks;
    if (u === null || u === undefined) return null;
    if (u.generation !== this.generation) {
      this.generation = u.generation;
      this.current = u.route(this.flow, this.family);
    }
    return this.current;
  }
}

/** The address family the upstream's sockets use (its IP, or its first bootstrap address). */
function familyOf(cfg: UpstreamConfig): 4 | 6 {
  return isIPv6(cfg.bootstrap[0] ?? cfg.host) ? 6 : 4;
}

/**
 * One question's walk along the group's order: the next member on a failure or a retryable
 * rcode, the same one once more when the uplink changed under the query. It is each member's
 * AnswerSink, so a miss makes this one object rather than a promise per attempt.
 */
class Attempts implements AnswerSink {
  private i = 0;
  private retried = false;
  private errors: Error[] | null = null;
  private lastAnswer: Buffer | undefined = undefined;
  private generation: number | undefined = undefined;
  private started = 0;

  constructor(private readonly g: UpstreamGroup, private readonly wire: Buffer, private readonly list: Member[], private readonly to: GroupSink) {}

  next(): void {
    if (this.i >= this.list.length) {
      this.to.failed(new AllUpstreamsFailed(this.errors ?? [], this.lastAnswer));
      return;
    }
    const m = this.list[this.i];
    this.generation = this.g.generation;
    this.started = this.g.now;
    m.stats.queries++;
    const t = m.transport;
    if (t.ask !== undefined) {
      t.ask(this.wire, this.g.timeout, this);
      return;
    }
    let asked: Promise<Buffer>;
    try {
      asked = t.query(this.wire, this.g.timeout);
    } catch (e) {
      asked = Promise.reject(e as Error); // a transport that throws is a failed attempt, as any other
    }
    asked.then((res) => this.answered(res), (err: Error) => this.failed(err));
  }

  answered(res: Buffer): void {
    const m = this.list[this.i];
    this.g.onSuccess(m, this.g.now - this.started);
    if (RETRY_RCODES.has(res[3] & 0x0f)) {
      (this.errors ??= []).push(new UpstreamError('UPSTREAM_BAD_RESPONSE', `${m.cfg.name} answered rcode ${res[3] & 0x0f}`));
      this.lastAnswer = res;
      this.move();
      return;
    }
    this.to.answered(res, m.cfg.name, this.g.uplinkOf(m));
  }

  failed(err: Error): void {
    // A query that fails while the uplink changes under it is retried once on the new uplink.
    if (!this.retried && this.g.generation !== undefined && this.g.generation !== this.generation) {
      this.retried = true;
      this.next();
      return;
    }
    this.g.onFailure(this.list[this.i], err);
    (this.errors ??= []).push(err);
    this.move();
  }

  private move(): void {
    this.i++;
    this.retried = false;
    this.next();
  }
}
