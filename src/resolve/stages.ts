/**
 * The pipeline's stages, in order: rules (classes we do not serve, zone transfers), local (zone,
 * reverse and special zones), cache, forward (RD=0 refused; minimal ANY, RFC 8482). Each has one
 * job and one method; a stage that can answer without I/O returns the reply directly, so a cache
 * hit waits on nothing, and a miss returns a PendingReply (no Promise on the way either).
 */
import { Buffer } from 'node:buffer';
import { CLASS_IN, Rcode, RRType } from '../dns/constants.js';
import { errorReply, packAnswer, renderReply, type PackedAnswer } from '../dns/reply.js';
import { scanResponse, sameQuestion } from '../dns/scan.js';
import { minimalAny } from '../dns/minimal-any.js';
import { copyBytes, put16 } from '../dns/bytes.js';
import { assemble, readSections } from '../dns/records.js';
import type { PacketCache } from '../cache/packet-cache.js';
import type { GroupSink, UpstreamGroup } from '../upstream/upstream-group.js';
import type { ParsedQuery } from '../dns/query.js';
import { AllUpstreamsFailed } from '../upstream/upstream-group.js';
import { UpstreamError } from '../upstream/transport.js';
import type { LocalZone } from '../zone/local-zone.js';
import type { QueryContext, Stage, StageResult } from './query-context.js';
import { answerEmptyZone } from './special-zones.js';
import { PendingReply } from './pending-reply.js';
import { KEY_SEED, StringTable } from '../string-table.js';

const ARPA = '\x04arpa\x00';

/** RFC 8767 §4: the TTL of a stale answer. */
export const STALE_TTL = 30;

/** Resolve a name on behalf of a local answer (a CNAME out of the zone), through the whole pipeline. */
export type Chase = (target: string, parent: QueryContext) => StageResult;

/** CNAMEs out of the local zone followed for one client question (a guard against loops). */
const MAX_CHASE_DEPTH = 4;

export class LocalStage implements Stage {
  /** Special-use answers never change: made once per question key. */
  private readonly special = new Map<string, PackedAnswer>();
  constructor(private readonly zone: LocalZone, private readonly chase: Chase) {}

  handle(ctx: QueryContext): StageResult {
    const r = ctx.route;
    const q = ctx.q;
    if (r !== undefined && r.kind === 'zone') {
      // The common case, served like a cache hit: rendered once per change of the data.
      const packed = this.zone.rendered(r.apex, q, ctx.query);
      if (packed === null) return undefined; // a reverse name under the apex, outside the prefix
      if (packed !== undefined) {
        ctx.source = 'local';
        return renderReply(packed, q, ctx.query, ctx.maxSize, 0, -1, ctx.client.padBlock);
      }
    } else if (r !== undefined && r.kind === 'special' && !q.name.endsWith(ARPA)) {
      let packed = this.special.get(q.key);
      if (packed === undefined) {
        if (this.special.size >= 10_000) this.special.clear();
        this.special.set(q.key, (packed = packAnswer(answerEmptyZone(r.zone, q, ctx.query))));
      }
      ctx.source = 'local';
      return renderReply(packed, q, ctx.query, ctx.maxSize, 0, -1, ctx.client.padBlock);
    }
    let body: Buffer | null = null;
    let hop: { chase?: string } | null = null; // only zone answers can leave the zone by CNAME
    // Lease PTRs live outside the configured reverse zones too (a public IPv6 prefix, a
    // private range without zone.reverse): only reverse names pay for this look-up.
    if ((r === undefined || r.kind !== 'zone') && q.name.endsWith(ARPA)) body = this.zone.answerLayerPtr(q, ctx.query);
    if (body === null) {
      if (r === undefined || r.kind === 'forward') return undefined;
      if (r.kind === 'zone') body = this.zone.answer(r.apex, q, ctx.query, (hop = {}));
      else body = answerEmptyZone(r.zone, q, ctx.query);
    }
    if (body === null) return undefined;
    ctx.source = 'local';
    if (hop !== null && hop.chase !== undefined && ctx.depth < MAX_CHASE_DEPTH) {
      // As Unbound does for local data: the CNAME and, resolved through the forwarder, its target.
      const local = body;
      const sub = this.chase(hop.chase, ctx);
      if (sub instanceof PendingReply) return sub.map((_, b) => this.withTarget(local, b, ctx), null);
      return this.withTarget(local, sub ?? null, ctx);
    }
    return renderReply(packAnswer(body), q, ctx.query, ctx.maxSize, 0, -1, ctx.client.padBlock);
  }

  /** Our CNAME followed by the target's answer; the rcode is the target's (RFC 6604). */
  private withTarget(local: Buffer, target: Buffer | null, ctx: QueryContext): Buffer {
    const ours = readSections(local);
    const theirs = target === null ? null : readSections(target);
    let body = local;
    if (ours !== null && theirs !== null && target !== null) {
      const authority = theirs.answer.length === 0 ? theirs.authority : [];
      body = assemble(local, ctx.q.questionEnd, [...ours.answer, ...theirs.answer], authority, []);
      body[3] = (body[3] & 0xd0) | (target[3] & 0x0f); // AD off: the answer is not all validated data
    }
    return renderReply(packAnswer(body), ctx.q, ctx.query, ctx.maxSize, 0, -1, ctx.client.padBlock);
  }
}

/**
 * Questions not worth going further with, before anything answers: classes other than IN (our
 * data is IN only; CH/HS/ANY get REFUSED, as Unbound's local zones do) and zone transfers.
 */
export class RulesStage implements Stage {
  handle(ctx: QueryContext): StageResult {
    const { q } = ctx;
    if (q.qclass !== CLASS_IN) return this.refuse(ctx, Rcode.REFUSED);
    if (q.qtype === RRType.AXFR || q.qtype === RRType.IXFR) {
      // RFC 5936 §4.2: AXFR needs a stream; IXFR over UDP is legal but not offered.
      return this.refuse(ctx, q.qtype === RRType.AXFR && ctx.client.transport === 'udp' ? Rcode.FORMERR : Rcode.REFUSED);
    }
    return undefined;
  }

  private refuse(ctx: QueryContext, rcode: number): Buffer {
    ctx.source = 'local';
    return errorReply(ctx.query, ctx.q, rcode, ctx.client.padBlock);
  }
}

export class CacheStage implements Stage {
  constructor(
    private readonly cache: PacketCache,
    private readonly prefetch: (ctx: QueryContext) => void,
  ) {}

  handle(ctx: QueryContext): StageResult {
    const cache = this.cache;
    const id = cache.lookup(ctx.q.key, ctx.q.keyHash);
    if (id < 0) return undefined;
    if (cache.claimPrefetch(id)) this.prefetch(ctx);
    ctx.source = 'cache';
    return renderReply(cache.view(id), ctx.q, ctx.query, ctx.maxSize, cache.ageOf(id), -1, ctx.client.padBlock);
  }
}

/** Header + the client's question + our OPT: what goes upstream (the transport sets the ID). */
export function upstreamQuery(query: Buffer, ctx: Pick<QueryContext, 'q'>): Buffer {
  const { q } = ctx;
  // From Node's shared pool (a new ArrayBuffer per miss showed up in the GC): every byte is written below.
  const o = q.questionEnd;
  const out = Buffer.allocUnsafe(o + 11);
  out[0] = out[1] = 0; // the transport writes the ID
  out[2] = 0x01; // RD
  // CD and AD as the client asked: AD=1 without DO asks a validating upstream for AD (RFC 6840 §5.7).
  out[3] = (q.checkingDisabled ? 0x10 : 0) | (q.authenticData ? 0x20 : 0);
  out[4] = 0;
  out[5] = 1; // QDCOUNT
  out[6] = out[7] = out[8] = out[9] = out[10] = 0;
  out[11] = 1; // ARCOUNT: our OPT
  copyBytes(query, 12, o, out, 12);
  out[o] = 0; // OPT: root name, type, our payload size, no extended rcode, version 0, DO as asked, no options
  put16(out, o + 1, RRType.OPT);
  put16(out, o + 3, 1232);
  out[o + 5] = out[o + 6] = 0;
  out[o + 7] = q.dnssecOk ? 0x80 : 0;
  out[o + 8] = out[o + 9] = out[o + 10] = 0;
  return out;
}

/** Who waits on a question asked upstream: told once, with the stored answer or the failure. */
interface FetchWaiter {
  fetched(entry: PackedAnswer, upstream: string, uplink: string | undefined): void;
  failed(err: unknown): void;
}

/**
 * One question on its way upstream and everyone waiting for it (in-flight coalescing): it hears
 * the group's outcome, checks and stores the answer once, and tells each waiter. Callbacks, not
 * promises: a miss used to make five promises on its way back.
 */
class Fetch implements GroupSink {
  private readonly waiters: FetchWaiter[];

  constructor(private readonly stage: ForwardStage, private readonly q: ParsedQuery, private readonly query: Buffer, first: FetchWaiter) {
    this.waiters = [first];
  }

  join(w: FetchWaiter): void {
    this.waiters.push(w);
  }

  answered(wire: Buffer, upstream: string, uplink: string | undefined): void {
    let entry: PackedAnswer;
    try {
      entry = this.store(wire);
    } catch (e) {
      this.failed(e); // a bad answer fails its waiters; it never reaches the socket that read it
      return;
    }
    for (const w of this.waiters) w.fetched(entry, upstream, uplink);
  }

  /** The upstream's answer checked, TTL-scanned and cached: what every waiter renders. */
  private store(wire: Buffer): PackedAnswer {
    const { q } = this;
    const scanned = scanResponse(q.qtype === RRType.ANY ? minimalAny(wire, q.name) : wire);
    if (scanned === null || !sameQuestion(this.query, scanned.packed.bytes)) {
      throw new UpstreamError('UPSTREAM_BAD_RESPONSE', 'malformed answer from upstream');
    }
    const header = scanned.packed.bytes;
    header[2] &= ~0x04; // relayed, so not authoritative from us (AA off)
    if (!q.dnssecOk && !q.authenticData) header[3] &= ~0x20; // RFC 6840 §5.8: AD only when asked
    this.stage.settled(q.key, q.keyHash);
    return this.stage.cache.store(q.key, scanned, q.keyHash).answer;
  }

  failed(err: unknown): void {
    this.stage.settled(this.q.key, this.q.keyHash);
    for (const w of this.waiters) w.failed(err);
  }
}

/** A client's question waiting on a fetch, and its reply: rendered from the answer, or the failure's. */
class ClientWait extends PendingReply implements FetchWaiter {
  constructor(private readonly stage: ForwardStage, private readonly ctx: QueryContext) {
    super();
  }

  fetched(entry: PackedAnswer, upstream: string, uplink: string | undefined): void {
    const { ctx } = this;
    ctx.source = 'upstream';
    ctx.upstream = upstream;
    ctx.uplink = uplink;
    try {
      this.resolve(renderReply(entry, ctx.q, ctx.query, ctx.maxSize, 0, -1, ctx.client.padBlock));
    } catch (e) {
      this.reject(e); // one waiter's bug is its own: the others of this fetch still get their answers
    }
  }

  failed(err: unknown): void {
    try {
      this.resolve(this.stage.failedReply(this.ctx, err));
    } catch (e) {
      this.reject(e);
    }
  }
}

export class ForwardStage implements Stage {
  /** Identical questions in flight share one upstream exchange. */
  private readonly inflight = new StringTable<Fetch>(64, KEY_SEED);
  coalesced = 0;

  constructor(
    readonly cache: PacketCache,
    private readonly defaultGroup: () => UpstreamGroup,
  ) {}

  handle(ctx: QueryContext): StageResult {
    const { q } = ctx;
    // RD=0: the local zone and the cache only, as Unbound does; never a fetch.
    if ((q.flags1 & 0x01) === 0) {
      ctx.source = 'error';
      return errorReply(ctx.query, q, Rcode.REFUSED, ctx.client.padBlock);
    }
    if (this.cache.servfailActive(q.key)) return this.failedReply(ctx, undefined);
    const wait = new ClientWait(this, ctx);
    this.join(ctx, wait);
    return wait;
  }

  /** Ask upstream and store the answer, for a background refresh (prefetch): settles either way. */
  fetch(ctx: Pick<QueryContext, 'q' | 'query' | 'route'>): Promise<void> {
    return new Promise<void>((done) => this.join(ctx, { fetched: () => done(), failed: () => done() }));
  }

  /** Ask upstream (or join the identical question already asked); `w` hears the stored answer. */
  private join(ctx: Pick<QueryContext, 'q' | 'query' | 'route'>, w: FetchWaiter): void {
    const { q } = ctx;
    const running = this.inflight.get(q.key, q.keyHash);
    if (running !== undefined) {
      this.coalesced++;
      running.join(w);
      return;
    }
    const group = ctx.route?.kind === 'forward' ? ctx.route.group : this.defaultGroup();
    const f = new Fetch(this, q, ctx.query, w);
    // In the table before the group is asked: its outcome may come back before `ask` returns.
    this.inflight.set(q.key, f, q.keyHash);
    group.ask(upstreamQuery(ctx.query, ctx), f);
  }

  /** @internal the fetch for `key` is over: the next identical question asks again */
  settled(key: string, hash: number): void {
    this.inflight.delete(key, hash);
  }

  /** Every upstream failed: a stale answer if we have one, else SERVFAIL (remembered briefly). */
  failedReply(ctx: QueryContext, err: unknown): Buffer {
    const stale = this.cache.staleEntry(ctx.q.key);
    if (stale >= 0) {
      this.cache.stats.staleServed++;
      ctx.source = 'stale';
      return renderReply(this.cache.view(stale), ctx.q, ctx.query, ctx.maxSize, 0, STALE_TTL, ctx.client.padBlock);
    }
    ctx.source = 'error';
    if (err !== undefined) this.cache.rememberServfail(ctx.q.key);
    const last = err instanceof AllUpstreamsFailed ? err.lastAnswer : undefined;
    if (last !== undefined) {
      const scanned = scanResponse(last);
      if (scanned !== null) return renderReply(scanned.packed, ctx.q, ctx.query, ctx.maxSize, 0, -1, ctx.client.padBlock);
    }
    return errorReply(ctx.query, ctx.q, Rcode.SERVFAIL, ctx.client.padBlock);
  }
}
