/**
 * The packet cache: wire-format answers keyed by (lower-cased name, type, class, DO, CD), kept
 * off the JS heap in a slab per size class (slab-arena.ts) and bounded in bytes: slot bytes plus
 * each entry's bookkeeping, LRU-evicted. An entry is a row of typed arrays (expiry, TTL, hits,
 * flags, its slot, its place in the LRU list, its key's hash); its key's bytes sit in its slot
 * before the answer, and the index is an open-addressed table of rows in an Int32Array. So an
 * entry makes no object the GC sees: a miss workload that stores an answer per query used to
 * promote a key string and grow a Map per miss, and the major GCs marking them cost 8% of a miss.
 * TTLs are clamped when stored and written into the stored body; a hit ages them by the entry's age. Expired entries stay (up to STALE_MAX_AGE) for
 * RFC 8767 serve-stale, which the resolver uses only when every upstream failed.
 */
import { Rcode } from '../dns/constants.js';
import { isUnder } from '../dns/name.js';
import type { ScannedResponse } from '../dns/scan.js';
import type { PackedAnswer } from '../dns/reply.js';
import type { Clock } from '../clock.js';
import type { CacheOptions } from '../config/types.js';
import { SlabArena } from './slab-arena.js';
import { hashString, KEY_SEED } from '../string-table.js';
import { copyBytes, put32, u16, u32, writeLatin1 } from '../dns/bytes.js';

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
 * Bytes an entry costs beyond its slot (which holds its key too): its row of the typed arrays
 * (44) and its share of the index table (8–16: between a quarter and half full, 4 bytes a cell).
 */
const ENTRY_OVERHEAD = 56;
const PREFETCHING = 1;
const NEGATIVE = 2;
const NONE = -1;
/**
 * An index cell is (the top 8 bits of the key's hash) << 24 | (row + 1): a probe that meets
 * another key's cell usually tells from the cell alone, without reading that row's hash — a
 * random memory access per occupied cell, 4% of a cache miss before (bench/RESULTS.md). Rows
 * therefore stop at 2^24 - 1 (more than 1.7 GB of the smallest answers); past that, the least
 * recent entry makes room.
 */
const ROW_BITS = 0xffffff;
const TAG_BITS = 0xff000000 | 0;
const MAX_ROWS = ROW_BITS;

export class PacketCache {
  readonly stats: CacheStats = {
    entries: 0, bytes: 0, hits: 0, misses: 0, inserts: 0, evictions: 0, staleServed: 0, prefetches: 0, servfailCached: 0, slabBytes: 0,
  };
  private readonly arena = new SlabArena();
  /** The index: tag | row + 1 per cell (0 empty), linear probing from the key's hash, at most half full. */
  private table = new Int32Array(2048);
  private mask = 2047;
  private count = 0;
  private servfails = new Map<string, number>();
  /** bytes counted against `maxBytes`: slots plus bookkeeping */
  private used = 0;

  // One row per entry; rows are reused through `freeRows`.
  private capacity = 0;
  private hash = new Int32Array(0);
  private keyLen = new Uint16Array(0);
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

  /** `maxRows` below 2^24 - 1 is for tests: the cap on entries that the index's cells allow. */
  constructor(public options: CacheOptions, private readonly clock: Clock, private readonly maxRows = MAX_ROWS) {}

  /** Apply new options; a smaller size evicts the least recent entries down to it. */
  reconfigure(options: CacheOptions): void {
    this.options = options;
    while (this.used > options.maxBytes && this.tail !== NONE) this.evict(this.tail);
  }

  /** When the last lookup ran: its age and prefetch decision use the same instant (one clock read per hit). */
  private at = 0;

  /** Hot path: a fresh entry, counted as a hit, or -1, counted as a miss. */
  lookup(key: string, h = this.hashOf(key)): number {
    const id = this.findHashed(key, h);
    this.at = this.clock.now();
    if (id === NONE || this.expiresAt[id] <= this.at) {
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
    const start = this.arena.offset(c, s) + this.keyLen[id];
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
    const id = this.find(key);
    if (id !== NONE) this.flags[id] &= ~PREFETCHING;
  }

  /** The entry whatever its freshness, without touching its recency, or -1. */
  peek(key: string): number {
    return this.find(key);
  }

  /** Seconds since the entry was stored, now (off the hot path). */
  ageNow(id: number): number {
    return this.ttl[id] - Math.ceil((this.expiresAt[id] - this.clock.now()) / 1000);
  }

  /** A stale entry still within the serve-stale window, or -1. */
  staleEntry(key: string): number {
    if (!this.options.serveStale) return NONE;
    const id = this.find(key);
    if (id === NONE || this.clock.now() - this.expiresAt[id] > STALE_MAX_AGE_MS) return NONE;
    this.touch(id);
    return id;
  }

  servfailActive(key: string): boolean {
    if (this.servfails.size === 0) return false; // the usual case, without hashing a new key string
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
  store(key: string, r: ScannedResponse, h = this.hashOf(key)): StoredAnswer {
    const now = this.clock.now();
    const { minTtl, maxTtl, negativeTtl } = this.options;
    const { bytes, start, end, bodyLen } = r.packed;
    let ttl: number;
    let cacheable = !r.truncated;
    const negative = r.rcode === Rcode.NXDOMAIN || (r.rcode === Rcode.NOERROR && r.answerCount === 0);
    if (negative) {
      if (r.negativeTtl < 0) {
        ttl = 0;
        cacheable = false; // RFC 2308 §5: no SOA, no negative caching
      } else {
        ttl = Math.min(Math.max(r.negativeTtl, minTtl), negativeTtl, maxTtl);
        for (const i of r.soaIndexes) put32(bytes, r.ttlAt(i), ttl);
      }
    } else if (r.rcode === Rcode.NOERROR) {
      ttl = end - start === bodyLen ? 0 : Infinity;
      for (let p = start + bodyLen; p < end; p += 2) {
        const at = start + u16(bytes, p);
        const t = Math.min(Math.max(u32(bytes, at), minTtl), maxTtl);
        put32(bytes, at, t);
        if (t < ttl) ttl = t;
      }
    } else {
      ttl = 0;
      cacheable = false;
    }
    const answer = r.packed;
    let id = NONE;
    if (cacheable && ttl > 0) {
      id = this.insert(key, h, answer, now + ttl * 1000, ttl, negative ? NEGATIVE : 0);
      if (id !== NONE) {
        if (this.servfails.size > 0) this.servfails.delete(key);
        this.stats.inserts++;
      }
    }
    return { answer, ttl, negative, id };
  }

  /** Copy an answer into a slot; -1 when it cannot be held (bigger than the biggest class, or than the whole budget). */
  private insert(key: string, h: number, a: PackedAnswer, expiresAt: number, ttl: number, flags: number): number {
    const old = this.findHashed(key, h);
    if (old !== NONE) this.remove(old);
    const len = a.end - a.start;
    const klen = key.length;
    const cls = SlabArena.classOf(klen + len);
    if (cls < 0 || klen > 0xffff) return NONE;
    const cost = SlabArena.slotSize(cls) + ENTRY_OVERHEAD;
    if (cost > this.options.maxBytes) return NONE;
    while (this.used + cost > this.options.maxBytes && this.tail !== NONE) this.evict(this.tail);
    let slot = this.arena.alloc(cls, this.arena.allocatedBytes + this.arena.chunkBytes(cls) <= this.options.maxBytes);
    if (slot < 0) {
      // The slab is all in chunks: the least recent entry of this class gives up its slot. With
      // none of this class near the tail, one more chunk (the slab may pass the budget by a
      // chunk per class; `used` never does): evicting everything else would free no slot of it.
      const victim = this.leastRecentOf(cls);
      if (victim !== NONE) {
        this.evict(victim);
        slot = this.arena.alloc(cls, false);
      }
      if (slot < 0) slot = this.arena.alloc(cls, true);
    }
    while (this.freeRows.length === 0 && this.rows >= this.maxRows && this.tail !== NONE) this.evict(this.tail);
    const id = this.row();
    this.hash[id] = h;
    this.keyLen[id] = klen;
    this.expiresAt[id] = expiresAt;
    this.ttl[id] = ttl;
    this.hits[id] = 0;
    this.flags[id] = flags;
    this.cls[id] = cls;
    this.slot[id] = slot;
    this.end[id] = len;
    this.bodyLen[id] = a.bodyLen;
    const chunk = this.arena.chunk(cls, slot);
    const at = this.arena.offset(cls, slot);
    writeLatin1(chunk, key, at);
    copyBytes(a.bytes, a.start, a.end, chunk, at + klen);
    this.linkHead(id);
    this.index(id, h);
    this.used += cost;
    return id;
  }

  /** The least recently used entry of size class `cls` among the 256 least recent, or -1. */
  private leastRecentOf(cls: number): number {
    let id = this.tail;
    for (let n = 0; id !== NONE && n < 256; n++, id = this.prev[id]) if (this.cls[id] === cls) return id;
    return NONE;
  }

  /**
   * The key's hash. Seeded with the process's random KEY_SEED: names are chosen by clients, so
   * the probe sequences must not be, and `ParsedQuery.keyHash` is this same hash.
   */
  private hashOf(key: string): number {
    return hashString(KEY_SEED, key);
  }

  private find(key: string): number {
    return this.findHashed(key, this.hashOf(key));
  }

  private findHashed(key: string, h: number): number {
    const t = this.table;
    const mask = this.mask;
    const tag = h & TAG_BITS;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = t[i];
      if (v === 0) return NONE;
      if ((v & TAG_BITS) !== tag) continue;
      const id = (v & ROW_BITS) - 1;
      if (this.hash[id] === h && this.keyIs(id, key)) return id;
    }
  }

  /** Is the key stored in entry `id`'s slot this one? */
  private keyIs(id: number, key: string): boolean {
    const n = this.keyLen[id];
    if (n !== key.length) return false;
    const c = this.cls[id];
    const s = this.slot[id];
    const chunk = this.arena.chunk(c, s);
    const at = this.arena.offset(c, s);
    for (let i = 0; i < n; i++) if (chunk[at + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  /** The key of entry `id`, read back from its slot (flush only). */
  private keyOf(id: number): string {
    const c = this.cls[id];
    const s = this.slot[id];
    const at = this.arena.offset(c, s);
    return this.arena.chunk(c, s).toString('latin1', at, at + this.keyLen[id]);
  }

  /** Put row `id` (hash `h`) in the table, doubling it first when it would be over half full. */
  private index(id: number, h: number): void {
    if ((this.count + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    const t = this.table;
    const mask = this.mask;
    let i = h & mask;
    while (t[i] !== 0) i = (i + 1) & mask;
    t[i] = (h & TAG_BITS) | (id + 1);
    this.count++;
  }

  private rehash(size: number): void {
    const old = this.table;
    const t = new Int32Array(size);
    const mask = size - 1;
    for (let j = 0; j < old.length; j++) {
      const v = old[j];
      if (v === 0) continue;
      let i = this.hash[(v & ROW_BITS) - 1] & mask;
      while (t[i] !== 0) i = (i + 1) & mask;
      t[i] = v;
    }
    this.table = t;
    this.mask = mask;
  }

  /** Take row `id` out of the table, shifting back the rows after it that probed past its cell. */
  private unindex(id: number): void {
    const t = this.table;
    const mask = this.mask;
    let i = this.hash[id] & mask;
    while ((t[i] & ROW_BITS) !== id + 1) i = (i + 1) & mask;
    t[i] = 0;
    this.count--;
    for (let j = (i + 1) & mask; t[j] !== 0; j = (j + 1) & mask) {
      const home = this.hash[(t[j] & ROW_BITS) - 1] & mask;
      // Row at j stays when its home lies cyclically in (i, j]; otherwise it moves into the hole.
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      t[i] = t[j];
      t[j] = 0;
      i = j;
    }
  }

  private row(): number {
    const reused = this.freeRows.pop();
    if (reused !== undefined) return reused;
    if (this.rows === this.capacity) this.grow();
    return this.rows++;
  }

  private grow(): void {
    const n = Math.max(1024, this.capacity * 2);
    const more = <T extends Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.hash = more(this.hash, (k) => new Int32Array(k));
    this.keyLen = more(this.keyLen, (k) => new Uint16Array(k));
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
    this.unindex(id);
    this.unlink(id);
    this.arena.release(this.cls[id], this.slot[id]);
    this.used -= SlabArena.slotSize(this.cls[id]) + ENTRY_OVERHEAD;
    this.keyLen[id] = 0;
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
      const n = this.count;
      this.table.fill(0);
      this.count = 0;
      this.servfails.clear();
      this.arena.releaseAll();
      this.freeRows.length = 0;
      this.rows = 0;
      this.head = this.tail = NONE;
      this.used = 0;
      return n;
    }
    let n = 0;
    for (let id = this.head; id !== NONE;) {
      const after = this.next[id];
      const key = this.keyOf(id);
      const name = key.slice(0, key.length - 5);
      if (subtree ? isUnder(name, nameWire) : name === nameWire) {
        this.remove(id);
        n++;
      }
      id = after;
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
    this.stats.entries = this.count;
    this.stats.bytes = this.used;
    this.stats.slabBytes = this.arena.allocatedBytes;
    return { ...this.stats };
  }
}
