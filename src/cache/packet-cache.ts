/**
 * The packet cache: wire-format answers keyed by (lower-cased name, type, class, DO, CD), kept
 * off the JS heap in a slab per size class (slab-arena.ts) and bounded in bytes: slot bytes plus
 * each entry's bookkeeping, LRU-evicted. An entry is an index into typed arrays (expiry, TTL,
 * hits, flags, its slot, its place in the LRU list); the only per-entry heap objects are its key
 * string and its slot in the key → index Map. TTLs are clamped when stored and written into the
 * stored body; a hit ages them by the entry's age. Expired entries stay (up to STALE_MAX_AGE) for
 * RFC 8767 serve-stale, which the resolver uses only when every upstream failed.
 */
import { Rcode } from '../dns/constants.js';
import { isUnder } from '../dns/name.js';
import type { ScannedResponse } from '../dns/scan.js';
import type { PackedAnswer } from '../dns/reply.js';
import type { Clock } from '../clock.js';
import type { CacheOptions } from '../config/types.js';
import { SlabArena } from './slab-arena.js';

/** What `store` made of an upstream answer: the answer to render now, and whether it is kept. */
export interface StoredAnswer {
  answer: PackedAnswer;
  /** seconds: the answer's lifetime after clamps */
  ttl: number;
  negative: boolean;
  /** the entry it is cached as, or -1 */
  id: number;
}

export type { CacheOptions } from '../config/types.js';

export interface CacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  inserts: number;
  evictions: number;
  staleServed: number;
  prefetches: number;
  servfailCached: number;
  /** bytes of slab made so far (off the JS heap; it stays at its high-water mark, within the budget) */
  slabBytes: number;
}

/** RFC 8767 §5 suggests 1–3 days; we keep expired answers for one. */
export const STALE_MAX_AGE_MS = 24 * 3600 * 1000;
/** Seconds a SERVFAIL is remembered, to absorb retry storms. */
export const SERVFAIL_TTL = 5;
/**
 * Bytes an entry costs beyond its slot: its row of the typed arrays (42), its key's slot in the
 * keys array and the Map (~56), and the key string's header (16); the key's characters are added.
 */
const ENTRY_OVERHEAD = 114;
const PREFETCHING = 1;
const NEGATIVE = 2;
const NONE = -1;

export class PacketCache {
  readonly stats: CacheStats = {
    entries: 0, bytes: 0, hits: 0, misses: 0, inserts: 0, evictions: 0, staleServed: 0, prefetches: 0, servfailCached: 0, slabBytes: 0,
  };
  private readonly index = new Map<string, number>();
  private readonly arena = new SlabArena();
  private servfails = new Map<string, number>();
  /** bytes counted against `maxBytes`: slots plus bookkeeping */
  private used = 0;

  // One row per entry; rows are reused through `freeRows`.
  private capacity = 0;
  private keys: string[] = [];
  private expiresAt = new Float64Array(0);
  private ttl = new Int32Array(0);
  private hits = new Uint32Array(0);
  private flags = new Uint8Array(0);
  private cls = new Int8Array(0);
  private slot = new Int32Array(0);
  private end = new Int32Array(0);
  private bodyLen = new Int32Array(0);
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private readonly freeRows: number[] = [];
  private rows = 0;
  /** the LRU list: head the most recent */
  private head = NONE;
  private tail = NONE;
  /** The answer `view` last filled: read it before the next call. */
  private readonly shown: PackedAnswer = { bytes: Buffer.alloc(0), start: 0, end: 0, bodyLen: 0 };

  constructor(public options: CacheOptions, private readonly clock: Clock) {}

  /** Apply new options; a smaller size evicts the least recent entries down to it. */
  reconfigure(options: CacheOptions): void {
    this.options = options;
    while (this.used > options.maxBytes && this.tail !== NONE) this.evict(this.tail);
  }

  /** When the last lookup ran: its age and prefetch decision use the same instant (one clock read per hit). */
  private at = 0;

  /** Hot path: a fresh entry, counted as a hit, or -1, counted as a miss. */
  lookup(key: string): number {
    const id = this.index.get(key);
    this.at = this.clock.now();
    if (id === undefined || this.expiresAt[id] <= this.at) {
      this.stats.misses++;
      return NONE;
    }
    this.stats.hits++;
    this.hits[id]++;
    this.touch(id);
    return id;
  }

  /** The entry's answer, for rendering at once: the same object is refilled by the next call. */
  view(id: number): PackedAnswer {
    const v = this.shown;
    const c = this.cls[id];
    const s = this.slot[id];
    const start = this.arena.offset(c, s);
    v.bytes = this.arena.chunk(c, s);
    v.start = start;
    v.end = start + this.end[id];
    v.bodyLen = this.bodyLen[id];
    return v;
  }

  /** Seconds since the entry was stored (what its TTLs are aged by), at the last lookup. */
  ageOf(id: number): number {
    return this.ttl[id] - Math.ceil((this.expiresAt[id] - this.at) / 1000);
  }

  /**
   * Should a hit refresh this entry in the background? Popular (two hits or more) and in the
   * last tenth of its TTL, once at a time: true claims the refresh (`prefetchDone` releases it).
   */
  claimPrefetch(id: number): boolean {
    if (!this.options.prefetch || (this.flags[id] & PREFETCHING) !== 0 || this.hits[id] < 2 || (this.expiresAt[id] - this.at) >= this.ttl[id] * 100) return false;
    this.flags[id] |= PREFETCHING;
    this.stats.prefetches++;
    return true;
  }

  /** The refresh of `key` is over (the entry may have been replaced by its answer meanwhile). */
  prefetchDone(key: string): void {
    const id = this.index.get(key);
    if (id !== undefined) this.flags[id] &= ~PREFETCHING;
  }

  /** The entry whatever its freshness, without touching its recency, or -1. */
  peek(key: string): number {
    return this.index.get(key) ?? NONE;
  }

  /** Seconds since the entry was stored, now (off the hot path). */
  ageNow(id: number): number {
    return this.ttl[id] - Math.ceil((this.expiresAt[id] - this.clock.now()) / 1000);
  }

  /** A stale entry still within the serve-stale window, or -1. */
  staleEntry(key: string): number {
    if (!this.options.serveStale) return NONE;
    const id = this.index.get(key);
    if (id === undefined || this.clock.now() - this.expiresAt[id] > STALE_MAX_AGE_MS) return NONE;
    this.touch(id);
    return id;
  }

  servfailActive(key: string): boolean {
    const until = this.servfails.get(key);
    if (until === undefined) return false;
    if (until > this.clock.now()) return true;
    this.servfails.delete(key);
    return false;
  }

  /** Forget every remembered SERVFAIL: the path upstream changed (another uplink), so they may not hold. */
  forgetServfails(): void {
    this.servfails.clear();
  }

  rememberServfail(key: string): void {
    if (this.servfails.size > 10_000) this.servfails.clear();
    this.servfails.set(key, this.clock.now() + SERVFAIL_TTL * 1000);
    this.stats.servfailCached++;
  }

  /**
   * Store a scanned upstream answer. Returns the answer to render this reply with (its own
   * bytes, not the slab's: coalesced waiters render it later) and whether it was cached.
   */
  store(key: string, r: ScannedResponse): StoredAnswer {
    const now = this.clock.now();
    const { minTtl, maxTtl, negativeTtl } = this.options;
    const body = r.body;
    let ttl: number;
    let cacheable = !r.truncated;
    const negative = r.rcode === Rcode.NXDOMAIN || (r.rcode === Rcode.NOERROR && r.answerCount === 0);
    if (negative) {
      if (r.negativeTtl < 0) {
        ttl = 0;
        cacheable = false; // RFC 2308 §5: no SOA, no negative caching
      } else {
        ttl = Math.min(Math.max(r.negativeTtl, minTtl), negativeTtl, maxTtl);
        for (const i of r.soaIndexes) body.writeUInt32BE(ttl, r.ttlOffsets[i]);
      }
    } else if (r.rcode === Rcode.NOERROR) {
      const offsets = r.ttlOffsets;
      ttl = offsets.length === 0 ? 0 : Infinity;
      for (let i = 0; i < offsets.length; i++) {
        const t = Math.min(Math.max(body.readUInt32BE(offsets[i]), minTtl), maxTtl);
        body.writeUInt32BE(t, offsets[i]);
        if (t < ttl) ttl = t;
      }
    } else {
      ttl = 0;
      cacheable = false;
    }
    const answer = r.packed;
    let id = NONE;
    if (cacheable && ttl > 0) {
      id = this.insert(key, answer, now + ttl * 1000, ttl, negative ? NEGATIVE : 0);
      if (id !== NONE) {
        this.servfails.delete(key);
        this.stats.inserts++;
      }
    }
    return { answer, ttl, negative, id };
  }

  /** Copy an answer into a slot; -1 when it cannot be held (bigger than the biggest class, or than the whole budget). */
  private insert(key: string, a: PackedAnswer, expiresAt: number, ttl: number, flags: number): number {
    const old = this.index.get(key);
    if (old !== undefined) this.remove(old);
    const len = a.end - a.start;
    const cls = SlabArena.classOf(len);
    if (cls < 0) return NONE;
    const cost = SlabArena.slotSize(cls) + ENTRY_OVERHEAD + key.length;
    if (cost > this.options.maxBytes) return NONE;
    while (this.used + cost > this.options.maxBytes && this.tail !== NONE) this.evict(this.tail);
    let slot = this.arena.alloc(cls, this.arena.allocatedBytes + this.arena.chunkBytes(cls) <= this.options.maxBytes);
    // The budget is in chunks of other classes: free one of this class by evicting the least recent.
    while (slot < 0 && this.tail !== NONE) {
      this.evict(this.tail);
      slot = this.arena.alloc(cls, false);
    }
    if (slot < 0) slot = this.arena.alloc(cls, true); // an empty cache: this class's first chunk
    const id = this.row();
    this.keys[id] = key;
    this.expiresAt[id] = expiresAt;
    this.ttl[id] = ttl;
    this.hits[id] = 0;
    this.flags[id] = flags;
    this.cls[id] = cls;
    this.slot[id] = slot;
    this.end[id] = len;
    this.bodyLen[id] = a.bodyLen;
    a.bytes.copy(this.arena.chunk(cls, slot), this.arena.offset(cls, slot), a.start, a.end);
    this.linkHead(id);
    this.index.set(key, id);
    this.used += cost;
    return id;
  }

  private row(): number {
    const reused = this.freeRows.pop();
    if (reused !== undefined) return reused;
    if (this.rows === this.capacity) this.grow();
    return this.rows++;
  }

  private grow(): void {
    const n = Math.max(1024, this.capacity * 2);
    const more = <T extends Float64Array | Int32Array | Uint32Array | Uint8Array | Int8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.expiresAt = more(this.expiresAt, (k) => new Float64Array(k));
    this.ttl = more(this.ttl, (k) => new Int32Array(k));
    this.hits = more(this.hits, (k) => new Uint32Array(k));
    this.flags = more(this.flags, (k) => new Uint8Array(k));
    this.cls = more(this.cls, (k) => new Int8Array(k));
    this.slot = more(this.slot, (k) => new Int32Array(k));
    this.end = more(this.end, (k) => new Int32Array(k));
    this.bodyLen = more(this.bodyLen, (k) => new Int32Array(k));
    this.prev = more(this.prev, (k) => new Int32Array(k));
    this.next = more(this.next, (k) => new Int32Array(k));
    this.capacity = n;
  }

  private evict(id: number): void {
    this.remove(id);
    this.stats.evictions++;
  }

  private remove(id: number): void {
    const key = this.keys[id];
    this.index.delete(key);
    this.unlink(id);
    this.arena.release(this.cls[id], this.slot[id]);
    this.used -= SlabArena.slotSize(this.cls[id]) + ENTRY_OVERHEAD + key.length;
    this.keys[id] = '';
    this.freeRows.push(id);
  }

  private touch(id: number): void {
    if (this.head === id) return;
    this.unlink(id);
    this.linkHead(id);
  }

  private linkHead(id: number): void {
    this.prev[id] = NONE;
    this.next[id] = this.head;
    if (this.head !== NONE) this.prev[this.head] = id;
    this.head = id;
    if (this.tail === NONE) this.tail = id;
  }

  private unlink(id: number): void {
    const p = this.prev[id];
    const n = this.next[id];
    if (p !== NONE) this.next[p] = n;
    else this.head = n;
    if (n !== NONE) this.prev[n] = p;
    else this.tail = p;
  }

  /** Drop everything, or every entry for one exact name (all types), or a whole subtree. */
  flush(nameWire?: string, subtree = false): number {
    if (nameWire === undefined) {
      const n = this.index.size;
      this.index.clear();
      this.servfails.clear();
      this.arena.releaseAll();
      this.keys = [];
      this.freeRows.length = 0;
      this.rows = 0;
      this.head = this.tail = NONE;
      this.used = 0;
      return n;
    }
    let n = 0;
    for (const [key, id] of [...this.index]) {
      const name = key.slice(0, key.length - 5);
      if (subtree ? isUnder(name, nameWire) : name === nameWire) {
        this.remove(id);
        n++;
      }
    }
    for (const key of [...this.servfails.keys()]) {
      const name = key.slice(0, key.length - 5);
      if (subtree ? isUnder(name, nameWire) : name === nameWire) this.servfails.delete(key);
    }
    return n;
  }

  /** Bytes of slab the cache has made so far (it keeps to its high-water mark, within `maxBytes`). */
  get slabBytes(): number {
    return this.arena.allocatedBytes;
  }

  snapshot(): CacheStats {
    this.stats.entries = this.index.size;
    this.stats.bytes = this.used;
    this.stats.slabBytes = this.arena.allocatedBytes;
    return { ...this.stats };
  }
}
