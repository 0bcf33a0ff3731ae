/**
 * The query pipeline: parse → route → stages (local, rules, cache, forward). Config-dependent
 * parts live in one `Pipeline` object that a reload replaces in a single assignment; the cache
 * and the counters outlive reloads.
 */
import { Buffer } from 'node:buffer';
import type { Logger } from 'pino';
import { monotonicNow, type Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import { wireKey, wireKeyToName } from '../dns/name.js';
import type { ResolverView } from './resolver-view.js';
import { ParseStatus, parseQuery, type ParsedQuery } from '../dns/query.js';
import { CLASS_IN, CLASSIC_UDP_SIZE, Opcode, Rcode, RRType } from '../dns/constants.js';
import { encodeName } from '../dns/name.js';
import { ServerCookies } from '../dns/server-cookies.js';
import { checkTsig, signResponse, signStream, tsigFailureRcode, tsigSize, type TsigCheck } from '../dns/tsig.js';
import { errorReply } from '../dns/reply.js';
import { PacketCache } from '../cache/packet-cache.js';
import { makeTransport } from '../upstream/make-transport.js';
import { UpstreamGroup } from '../upstream/upstream-group.js';
import type { UplinkSource } from '../uplinks/uplink-source.js';
import { LocalZone } from '../zone/local-zone.js';
import { ZoneLayers } from '../zone/zone-layers.js';
import type { ClientInfo, QueryContext, Reply, Stage, StageResult, StreamReply } from './query-context.js';
import type { ZoneService } from './zone-service.js';
import { ZoneHistory } from '../zone/zone-history.js';
import type { AnswerObserver } from '../dns/answer-observer.js';
import { QueryStats } from './query-stats.js';
import { HeavyHitters } from './heavy-hitters.js';
import { QueryLog, queryEntry, type QueryEntry } from './query-log.js';
import { buildRouter, type Route } from './router.js';
import type { SuffixMatcher } from '../dns/suffix-matcher.js';
import { CacheStage, ForwardStage, LocalStage, RulesStage } from './stages.js';
import { PendingReply } from './pending-reply.js';

interface Pipeline {
  config: Config;
  zone: LocalZone;
  router: SuffixMatcher<Route>;
  defaultGroup: UpstreamGroup;
  forwardGroups: UpstreamGroup[];
  /**
   * The stages' `handle`s, bound: one call site calling four classes' methods through
   * `stage.handle` is a polymorphic property load on every query; a list of functions is not.
   */
  stages: Array<Stage['handle']>;
  forward: ForwardStage;
}

export class Resolver implements ResolverView {
  readonly stats = new QueryStats();
  private readonly names = new HeavyHitters();
  private readonly clients = new HeavyHitters();
  /** Set when `log.queries` is on. */
  queryLog: QueryLog | null = null;
  /** The live feed's view of each query (`GET /events`), set only while someone watches it. */
  queryTap: ((e: QueryEntry) => void) | null = null;
  /** Records fed by other modules (leases); they outlive reloads, unlike the zone from the file. */
  readonly layers = new ZoneLayers();
  readonly cache: PacketCache;
  private p!: Pipeline;
  /** RFC 7873 server cookies; null when `cookies.enabled` is false. */
  private cookies: ServerCookies | null = null;
  private observer: AnswerObserver | null = null;
  /** UPDATE and zone transfers (the DDNS room), when configured */
  private zoneService: ZoneService | null = null;
  /** The zone's versions: the serial, and diffs for IXFR. */
  readonly history: ZoneHistory;
  private unsubscribeUplinks: () => void = () => undefined;

  constructor(config: Config, private readonly clock: Clock, private readonly log: Logger, private uplinks: UplinkSource | null = null) {
    this.cache = new PacketCache(config.cache, clock);
    this.followUplinks(uplinks);
    this.p = this.build(config);
    this.history = new ZoneHistory(this.layers, () => this.p.zone);
    this.setCookies(config);
    this.setQueryLog(config.log.queries);
  }

  setZoneService(s: ZoneService | null): void {
    this.zoneService = s;
  }

  /** A new secret only when the configured one changed: cookies clients hold stay valid across reloads. */
  private setCookies(config: Config): void {
    const c = config.cookies;
    if (!c.enabled) this.cookies = null;
    else if (this.cookies === null || (c.secret !== undefined && !c.secret.equals(this.cookies.secret))) this.cookies = new ServerCookies(c.secret);
  }

  /** SERVFAILs remembered while the old uplink was failing say nothing about the new one. */
  private followUplinks(uplinks: UplinkSource | null): void {
    this.unsubscribeUplinks();
    this.uplinks = uplinks;
    this.unsubscribeUplinks = uplinks?.onChange(() => this.cache.forgetServfails()) ?? (() => undefined);
  }

  private setQueryLog(on: boolean): void {
    if (on && this.queryLog === null) this.queryLog = new QueryLog();
    if (!on && this.queryLog !== null) {
      this.queryLog.close();
      this.queryLog = null;
    }
  }

  /** Multi-WAN domain policies: see answers for their names before the client does. */
  setAnswerObserver(o: AnswerObserver | null): void {
    this.observer = o;
  }

  get config(): Config {
    return this.p.config;
  }

  /** The zone port: the local zone in force now (lease names are decided against its static records). */
  get localZone(): LocalZone {
    return this.p.zone;
  }

  /** Questions that joined an identical one already on its way upstream. */
  get coalesced(): number {
    return this.p.forward.coalesced;
  }

  upstreamStats() {
    return [this.p.defaultGroup, ...this.p.forwardGroups].flatMap((g) => g.stats());
  }

  cacheStats() {
    return this.cache.snapshot();
  }

  flushCache(name?: string): number {
    return this.cache.flush(name === undefined ? undefined : wireKey(name));
  }

  /** For the admin view: every record served with authority. (Rooms publish through `layers`.) */
  zone(): { domain: string; records: ReturnType<LocalZone['records']> } {
    return { domain: this.p.zone.apexes[0].name, records: this.p.zone.records() };
  }

  nameOf(address: string): string | undefined {
    return this.p.zone.nameOf(address);
  }

  topNames(n: number) {
    return this.names.top(n).map(({ key, count }) => ({ name: wireKeyToName(key) || '.', count }));
  }

  topClients(n: number) {
    return this.clients.top(n).map(({ key, count }) => ({ client: key, count }));
  }

  /** Are the top counts estimates (sampled at a high rate, or past the sketch's capacity)? */
  topEstimated(): boolean {
    return this.names.estimated() || this.clients.estimated();
  }

  private build(config: Config): Pipeline {
    const group = (list: Config['upstreams']) =>
      new UpstreamGroup(list, config.upstreamStrategy, config.upstreamTimeoutMs,
        (u, source) => makeTransport(u, source, { cookies: config.cookies.upstream, udpPool: config.limits.udpPool }), this.clock, this.log, this.uplinks);
    const defaultGroup = group(config.upstreams);
    const forwards = config.forward.map((f) => ({ domain: f.domain, group: group(f.upstreams) }));
    const zone = new LocalZone(config.zone, this.layers);
    const forward = new ForwardStage(this.cache, () => defaultGroup);
    const stages: Stage[] = [
      new RulesStage(),
      new LocalStage(zone, (target, parent) => this.chase(target, parent)),
      new CacheStage(this.cache, (ctx) => this.prefetch(ctx)),
      forward,
    ];
    return { config, zone, router: buildRouter(zone, forwards), defaultGroup, forwardGroups: forwards.map((f) => f.group), stages: stages.map((s) => s.handle.bind(s)), forward };
  }

  /**
   * Swap in a new config (and the uplinks of that config). Answers cached for names whose
   * forwarding changed are dropped.
   */
  apply(config: Config, uplinks: UplinkSource | null = this.uplinks): void {
    const old = this.p;
    if (uplinks !== this.uplinks) this.followUplinks(uplinks);
    this.cache.reconfigure(config.cache);
    this.p = this.build(config);
    old.zone.close();
    // Static records changed: diffs across the change would be wrong, so IXFR sends the whole zone.
    if (JSON.stringify(old.config.zone) !== JSON.stringify(config.zone)) this.history.reset();
    this.setCookies(config);
    this.setQueryLog(config.log.queries);
    const before = new Map(old.config.forward.map((f) => [f.domain, JSON.stringify(f.upstreams)]));
    const after = new Map(config.forward.map((f) => [f.domain, JSON.stringify(f.upstreams)]));
    for (const d of new Set([...before.keys(), ...after.keys()])) {
      if (before.get(d) !== after.get(d)) this.cache.flush(wireKey(d), true);
    }
    if (JSON.stringify(old.config.upstreams) !== JSON.stringify(config.upstreams)) {
      this.log.info('upstreams changed; cached answers kept');
    }
    // Queries already sent on the old groups finish there; close them once they can have.
    setTimeout(() => {
      old.defaultGroup.close();
      for (const g of old.forwardGroups) g.close();
    }, Math.max(old.config.upstreamTimeoutMs * (old.config.upstreams.length + 1), 5000)).unref();
  }

  /** A REFUSED reply for an ACL refusal (null when the packet is not worth answering); the gate counted it. */
  refuse(query: Buffer, client: ClientInfo): Buffer | null {
    const q = parseQuery(query);
    if (q.status === ParseStatus.DROP) return null;
    this.stats.count(client.transport, Rcode.REFUSED);
    return errorReply(query, q, Rcode.REFUSED, client.padBlock);
  }

  handle(query: Buffer, client: ClientInfo): StreamReply {
    const q = parseQuery(query);
    const stats = this.stats;
    if (q.status !== ParseStatus.OK) {
      if (q.status === ParseStatus.DROP) {
        stats.dropped++;
        return null;
      }
      if (this.zoneService !== null && ((query[2] >> 3) & 0x0f) === Opcode.UPDATE) return this.counted(client, this.zoneService.update(query, client));
      const rcode = q.status === ParseStatus.OPCODE ? opcodeRcode(q) : q.status === ParseStatus.BADVERS ? Rcode.BADVERS : Rcode.FORMERR;
      if (q.status !== ParseStatus.FORMERR && q.cookieAt >= 0 && this.cookies !== null) this.cookies.answer(query, q, client.address, this.seconds());
      stats.count(client.transport, rcode);
      return errorReply(query, q, rcode, client.padBlock);
    }
    this.names.add(q.name);
    this.clients.add(client.address);
    if (q.tsigAt >= 0 || q.cookieAt >= 0) return this.handleSigned(query, q, client);
    if (this.isTransfer(q, client)) return this.transfer(query, q, client, null);
    return this.run(query, q, client, 0);
  }

  private counted(client: ClientInfo, r: Reply): Reply {
    if (r instanceof PendingReply) return r.map(this.countedFor, client);
    if (r !== null && r.length >= 4) this.stats.count(client.transport, r[3] & 0x0f);
    return r;
  }

  private readonly countedFor = (client: ClientInfo, b: Buffer | null): Reply => this.counted(client, b);

  private isTransfer(q: ParsedQuery, client: ClientInfo): boolean {
    return this.zoneService !== null && (q.qtype === RRType.AXFR || q.qtype === RRType.IXFR) && q.qclass === CLASS_IN
      && (client.transport === 'tcp' || client.transport === 'dot');
  }

  /** AXFR/IXFR through the DDNS room; signed, message by message, when the request was. */
  private transfer(query: Buffer, q: ParsedQuery, client: ClientInfo, tsig: TsigCheck | null): StreamReply {
    const messages = this.zoneService!.transfer(query, q, client, tsig);
    if (messages === undefined) return this.run(query, q, client, 0);
    if (messages.length > 0) this.stats.count(client.transport, messages[0][3] & 0x0f);
    return tsig === null ? messages : signStream(messages, tsig, this.seconds());
  }

  /** Queries with a TSIG record or a COOKIE option: checked here, signed on the way out. */
  private handleSigned(query: Buffer, q: ParsedQuery, client: ClientInfo): StreamReply {
    const now = this.seconds();
    let tsig: TsigCheck | null = null;
    if (q.tsigAt >= 0) {
      tsig = checkTsig(query, q.tsigAt, this.p.config.tsigKeys, now);
      if (tsig.error !== 0) {
        // RFC 8945 §5.2: NOTAUTH with the TSIG error, unsigned unless only the time was off.
        this.stats.tsigFailures++;
        const rcode = tsigFailureRcode(tsig);
        this.stats.count(client.transport, rcode);
        const r = errorReply(query, q, rcode, client.padBlock);
        return tsig.error === -1 ? r : signResponse(r, tsig, now);
      }
    }
    if (q.cookieAt >= 0 && this.cookies !== null) {
      const valid = this.cookies.answer(query, q, client.address, now);
      if (!valid && client.transport === 'udp' && this.p.config.cookies.require) {
        // RFC 7873 §5.2.3: a fresh server cookie and BADCOOKIE; the client retries with it.
        this.stats.count(client.transport, Rcode.BADCOOKIE);
        const r = errorReply(query, q, Rcode.BADCOOKIE, client.padBlock);
        return tsig === null ? r : signResponse(r, tsig, now);
      }
    }
    if (this.isTransfer(q, client)) return this.transfer(query, q, client, tsig);
    const reply = this.run(query, q, client, tsig === null ? 0 : tsigSize(tsig));
    if (tsig === null) return reply;
    if (reply instanceof PendingReply) return reply.map(this.signedWith, tsig);
    return reply === null ? null : signResponse(reply, tsig, now);
  }

  private readonly signedWith = (tsig: TsigCheck, b: Buffer | null): Buffer | null => (b === null ? null : signResponse(b, tsig, this.seconds()));

  private seconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /** The stages for one parsed question; `reserve` bytes are kept free (for a TSIG record). */
  private run(query: Buffer, q: ParsedQuery, client: ClientInfo, reserve: number): Reply {
    const p = this.p;
    const ctx: QueryContext = {
      query, q, client,
      maxSize: (client.maxSize > 0 ? client.maxSize : q.edns ? q.udpSize : CLASSIC_UDP_SIZE) - reserve,
      route: p.router.match(q.name),
      source: 'local',
      startedAt: 0,
      upstream: undefined,
      uplink: undefined,
      depth: 0,
    };
    const stages = p.stages;
    for (let i = 0; i < stages.length; i++) {
      const r = stages[i](ctx);
      if (r === undefined) continue;
      if (!(r instanceof PendingReply)) return this.finish(ctx, r);
      ctx.startedAt = monotonicNow();
      return r.map(this.finishOf, ctx);
    }
    return null;
  }

  private stages(ctx: QueryContext): StageResult {
    const stages = this.p.stages;
    for (let i = 0; i < stages.length; i++) {
      const r = stages[i](ctx);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /**
   * A local CNAME's target outside the zone, asked through the same stages (cache, forward) with
   * the client's RD, CD, AD and DO, as a question of its own: not counted, not logged.
   */
  private chase(target: string, parent: QueryContext): StageResult {
    let qname: Buffer;
    try {
      qname = encodeName(target);
    } catch {
      return null;
    }
    const pq = parent.q;
    const query = Buffer.alloc(12 + qname.length + 4 + (pq.edns ? 11 : 0));
    query[2] = pq.flags1 & 0x01;
    query[3] = parent.query[3] & 0x30;
    query.writeUInt16BE(1, 4);
    qname.copy(query, 12);
    let o = 12 + qname.length;
    query.writeUInt16BE(pq.qtype, o);
    query.writeUInt16BE(CLASS_IN, o + 2);
    o += 4;
    if (pq.edns) {
      query.writeUInt16BE(1, 10);
      query.writeUInt16BE(41, o + 1);
      query.writeUInt16BE(1232, o + 3);
      query[o + 7] = pq.dnssecOk ? 0x80 : 0;
    }
    const q = parseQuery(query);
    if (q.status !== ParseStatus.OK) return null;
    const ctx: QueryContext = {
      query, q, client: { ...parent.client, maxSize: 65535, padBlock: 0 }, maxSize: 65535,
      route: this.p.router.match(q.name), source: 'local', startedAt: 0, upstream: undefined, uplink: undefined,
      depth: parent.depth + 1,
    };
    return this.stages(ctx);
  }

  private done(ctx: QueryContext, reply: Buffer | null): Buffer | null {
    const stats = this.stats;
    let seconds = 0;
    if (ctx.startedAt === 0) stats.observeSync();
    else stats.observe((seconds = (monotonicNow() - ctx.startedAt) / 1000));
    if (reply !== null) {
      stats.count(ctx.client.transport, reply[3] & 0x0f);
      stats.bySource[ctx.source]++;
    }
    if (this.queryLog !== null) this.queryLog.write(ctx, reply, seconds, this.p.zone);
    if (this.queryTap !== null) this.queryTap(queryEntry(ctx, reply, seconds, this.p.zone, this.cacheAgeOf(ctx)));
    return reply;
  }

  /** Seconds the answer had been cached, for the live feed (off the hot path: only while watched). */
  private cacheAgeOf(ctx: QueryContext): number | null {
    if (ctx.source !== 'cache' && ctx.source !== 'stale') return null;
    const id = this.cache.peek(ctx.q.key);
    return id < 0 ? null : Math.round(this.cache.ageNow(id));
  }

  /** Counted and logged (`done`), then held back until an observer has what it needs (e.g. an nft set updated). */
  private finish(ctx: QueryContext, reply: Buffer | null): Reply {
    const out = this.done(ctx, reply);
    const o = this.observer;
    if (o === null || out === null || !o.wants(ctx.q.name)) return out;
    const wait = o.observe(ctx.q.name, out);
    return wait === undefined ? out : PendingReply.from(wait.then(() => out, () => out));
  }

  private readonly finishOf = (ctx: QueryContext, b: Buffer | null): Reply => this.finish(ctx, b);

  private prefetch(ctx: QueryContext): void {
    // Copy: the query buffer belongs to the listener and the refresh outlives this call.
    const copy = { q: ctx.q, query: Buffer.from(ctx.query), route: ctx.route };
    const key = ctx.q.key;
    const done = () => this.cache.prefetchDone(key);
    this.p.forward.fetch(copy).then(done, done);
  }

  close(): void {
    this.unsubscribeUplinks();
    this.setQueryLog(false);
    this.p.zone.close();
    this.p.defaultGroup.close();
    for (const g of this.p.forwardGroups) g.close();
  }
}

/** NOTIFY is refused (we are no secondary); UPDATE, STATUS and unknown opcodes are not implemented. */
function opcodeRcode(q: ParsedQuery): number {
  return ((q.flags1 >> 3) & 0x0f) === Opcode.NOTIFY ? Rcode.REFUSED : Rcode.NOTIMP;
}
