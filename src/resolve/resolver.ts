/**
 * The query pipeline: parse → route → stages (local, rules, cache, forward). Config-dependent
 * parts live in one `Pipeline` object that a reload replaces in a single assignment; the cache
 * and the counters outlive reloads.
 */
import { Buffer } from 'node:buffer';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import { wireKey } from '../dns/name.js';
import { ParseStatus, parseQuery } from '../dns/query.js';
import { CLASSIC_UDP_SIZE, Rcode } from '../dns/constants.js';
import { errorReply } from '../dns/reply.js';
import { PacketCache, type CacheEntry } from '../cache/packet-cache.js';
import { makeTransport } from '../upstream/make-transport.js';
import { UpstreamGroup } from '../upstream/upstream-group.js';
import type { UplinkSource } from '../uplinks/uplink-source.js';
import { LocalZone } from '../zone/local-zone.js';
import { ZoneLayers } from '../zone/zone-layers.js';
import type { ClientInfo, QueryContext, Reply, Stage } from './query-context.js';
import type { AnswerObserver } from './answer-observer.js';
import { QueryStats } from './query-stats.js';
import { HeavyHitters } from './heavy-hitters.js';
import { QueryLog } from './query-log.js';
import { buildRouter, type Route } from './router.js';
import type { SuffixMatcher } from './suffix-matcher.js';
import { CacheStage, ForwardStage, LocalStage, RulesStage } from './stages.js';

interface Pipeline {
  config: Config;
  zone: LocalZone;
  router: SuffixMatcher<Route>;
  defaultGroup: UpstreamGroup;
  forwardGroups: UpstreamGroup[];
  stages: Stage[];
  forward: ForwardStage;
}

export class Resolver {
  readonly stats = new QueryStats();
  readonly topNames = new HeavyHitters();
  readonly topClients = new HeavyHitters();
  /** Set when `log.queries` is on. */
  queryLog: QueryLog | null = null;
  /** Records fed by other modules (leases); they outlive reloads, unlike the zone from the file. */
  readonly layers = new ZoneLayers();
  readonly cache: PacketCache;
  /** Queries waiting on an upstream; graceful stop waits for zero. */
  inflight = 0;
  private p!: Pipeline;
  private observer: AnswerObserver | null = null;
  private unsubscribeUplinks: () => void = () => undefined;

  constructor(config: Config, private readonly clock: Clock, private readonly log: Logger, private uplinks: UplinkSource | null = null) {
    this.cache = new PacketCache(config.cache, clock);
    this.followUplinks(uplinks);
    this.p = this.build(config);
    this.setQueryLog(config.log.queries);
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

  get zone(): LocalZone {
    return this.p.zone;
  }

  /** Questions that joined an identical one already on its way upstream. */
  get coalesced(): number {
    return this.p.forward.coalesced;
  }

  upstreamStats() {
    return [this.p.defaultGroup, ...this.p.forwardGroups].flatMap((g) => g.stats());
  }

  private build(config: Config): Pipeline {
    const group = (list: Config['upstreams']) =>
      new UpstreamGroup(list, config.upstreamStrategy, config.upstreamTimeoutMs, makeTransport, this.clock, this.log, this.uplinks);
    const defaultGroup = group(config.upstreams);
    const forwards = config.forward.map((f) => ({ domain: f.domain, group: group(f.upstreams) }));
    const zone = new LocalZone(config.zone, this.layers);
    const forward = new ForwardStage(this.cache, () => defaultGroup);
    const stages: Stage[] = [
      new LocalStage(zone),
      new RulesStage(),
      new CacheStage(this.cache, this.clock, (ctx, entry) => this.prefetch(ctx, entry)),
      forward,
    ];
    return { config, zone, router: buildRouter(zone, forwards), defaultGroup, forwardGroups: forwards.map((f) => f.group), stages, forward };
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

  /** A REFUSED reply for an ACL refusal (null when the packet is not worth answering). */
  refuse(query: Buffer, client: ClientInfo): Buffer | null {
    this.stats.refused++;
    const q = parseQuery(query);
    if (q.status === ParseStatus.DROP) return null;
    this.stats.count(client.transport, Rcode.REFUSED);
    return errorReply(query, q, Rcode.REFUSED, client.padBlock);
  }

  handle(query: Buffer, client: ClientInfo): Reply {
    const q = parseQuery(query);
    const stats = this.stats;
    if (q.status !== ParseStatus.OK) {
      if (q.status === ParseStatus.DROP) {
        stats.dropped++;
        return null;
      }
      const rcode = q.status === ParseStatus.NOTIMP ? Rcode.NOTIMP : q.status === ParseStatus.BADVERS ? Rcode.BADVERS : Rcode.FORMERR;
      stats.count(client.transport, rcode);
      return errorReply(query, q, rcode, client.padBlock);
    }
    this.topNames.add(q.name);
    this.topClients.add(client.address);
    const p = this.p;
    const ctx: QueryContext = {
      query, q, client,
      maxSize: client.maxSize > 0 ? client.maxSize : q.edns ? q.udpSize : CLASSIC_UDP_SIZE,
      route: p.router.match(q.name),
      source: 'local',
      startedAt: 0,
      upstream: undefined,
      uplink: undefined,
    };
    const stages = p.stages;
    for (let i = 0; i < stages.length; i++) {
      const r = stages[i].handle(ctx);
      if (r === undefined) continue;
      if (r === null || !(r instanceof Promise)) return this.finish(ctx, r);
      ctx.startedAt = performance.now();
      this.inflight++;
      return r.then((b) => {
        this.inflight--;
        return this.finish(ctx, b);
      });
    }
    return null;
  }

  private done(ctx: QueryContext, reply: Buffer | null): Buffer | null {
    const stats = this.stats;
    let seconds = 0;
    if (ctx.startedAt === 0) stats.observeSync();
    else stats.observe((seconds = (performance.now() - ctx.startedAt) / 1000));
    if (reply !== null) {
      stats.count(ctx.client.transport, reply[3] & 0x0f);
      stats.bySource[ctx.source]++;
    }
    if (this.queryLog !== null) this.queryLog.write(ctx, reply, seconds, this.p.zone);
    return reply;
  }

  /** Counted and logged (`done`), then held back until an observer has what it needs (e.g. an nft set updated). */
  private finish(ctx: QueryContext, reply: Buffer | null): Reply {
    const out = this.done(ctx, reply);
    const o = this.observer;
    if (o === null || out === null || !o.wants(ctx.q.name)) return out;
    const wait = o.observe(ctx.q.name, out);
    return wait === undefined ? out : wait.then(() => out, () => out);
  }

  private prefetch(ctx: QueryContext, entry: CacheEntry): void {
    this.cache.stats.prefetches++;
    // Copy: the query buffer belongs to the listener and the refresh outlives this call.
    const copy = { q: ctx.q, query: Buffer.from(ctx.query), route: ctx.route };
    this.p.forward.fetch(copy).then(
      () => { entry.prefetching = false; },
      () => { entry.prefetching = false; },
    );
  }

  close(): void {
    this.unsubscribeUplinks();
    this.setQueryLog(false);
    this.p.defaultGroup.close();
    for (const g of this.p.forwardGroups) g.close();
  }
}
