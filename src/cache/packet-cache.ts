/**
 * The packet cache: wire-format answers keyed by (lower-cased name, type, class, DO, CD), bounded
 * in bytes by lru-cache. TTLs are clamped when stored and written into the stored body; a hit
 * ages them by the entry's age. Expired entries stay (up to STALE_MAX_AGE) for RFC 8767
 * serve-stale, which the resolver uses only when every upstream failed.
 */
import { LRUCache } from 'lru-cache';
import { Rcode } from '../dns/constants.js';
import { isUnder } from '../dns/name.js';
import type { ScannedResponse } from '../dns/scan.js';
import { packAnswer, type PackedAnswer } from '../dns/reply.js';
import type { Clock } from '../clock.js';
import type { CacheOptions } from '../config/types.js';

export interface CacheEntry extends PackedAnswer {
  /** ms, from the clock; the entry was stored at expiresAt - ttl * 1000 */
  expiresAt: number;
  /** seconds: the entry's lifetime when stored (after clamps) */
  ttl: number;
  hits: number;
  prefetching: boolean;
  negative: boolean;
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
}

/** RFC 8767 §5 suggests 1–3 days; we keep expired answers for one. */
export const STALE_MAX_AGE_MS = 24 * 3600 * 1000;
/** Seconds a SERVFAIL is remembered, to absorb retry storms. */
export const SERVFAIL_TTL = 5;
/** Approximate heap bytes an entry costs beyond its data (entry object, string headers, LRU slots). */
const ENTRY_OVERHEAD = 160;

export class PacketCache {
  readonly stats: CacheStats = {
    entries: 0, bytes: 0, hits: 0, misses: 0, inserts: 0, evictions: 0, staleServed: 0, prefetches: 0, servfailCached: 0,
  };
  private lru: LRUCache<string, CacheEntry>;
  private servfails = new Map<string, number>();

  constructor(public options: CacheOptions, private readonly clock: Clock) {
    this.lru = this.makeLru(options.maxBytes);
  }

  private makeLru(maxBytes: number): LRUCache<string, CacheEntry> {
    return new LRUCache<string, CacheEntry>({
      maxSize: maxBytes,
      sizeCalculation: (e, key) => e.data.length + key.length + ENTRY_OVERHEAD,
      dispose: (_v, _k, reason) => { if (reason === 'evict') this.stats.evictions++; },
    });
  }

  /** Apply new options; a new size re-homes the entries (most recent first) instead of dropping them. */
  reconfigure(options: CacheOptions): void {
    const resized = options.maxBytes !== this.options.maxBytes;
    this.options = options;
    if (!resized) return;
    const old = this.lru;
    this.lru = this.makeLru(options.maxBytes);
    for (const [k, v] of [...old.entries()].reverse()) this.lru.set(k, v);
  }

  /** When the last lookup ran: its age and prefetch decision use the same instant (one clock read per hit). */
  private at = 0;

  /** Hot path: a fresh entry, counted as a hit, or undefined, counted as a miss. */
  lookup(key: string): CacheEntry | undefined {
    const entry = this.lru.get(key);
    this.at = this.clock.now();
    if (entry === undefined || entry.expiresAt <= this.at) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    entry.hits++;
    return entry;
  }

  /** Seconds since the entry was stored (what its TTLs are aged by), at the last lookup. */
  ageOf(entry: CacheEntry): number {
    return entry.ttl - Math.ceil((entry.expiresAt - this.at) / 1000);
  }

  /**
   * Should a hit refresh this entry in the background? Popular (two hits or more) and in the
   * last tenth of its TTL, once at a time: true claims the refresh (`prefetchDone` releases it).
   */
  claimPrefetch(entry: CacheEntry): boolean {
    if (!this.options.prefetch || entry.prefetching || entry.hits < 2 || (entry.expiresAt - this.at) >= entry.ttl * 100) return false;
    entry.prefetching = true;
    this.stats.prefetches++;
    return true;
  }

  prefetchDone(entry: CacheEntry): void {
    entry.prefetching = false;
  }

  /** The entry whatever its freshness (tests, and the stale path reads through staleEntry). */
  peekEntry(key: string): CacheEntry | undefined {
    return this.lru.peek(key);
  }

  /** A stale entry still within the serve-stale window, or undefined. */
  staleEntry(key: string): CacheEntry | undefined {
    if (!this.options.serveStale) return undefined;
    const e = this.lru.get(key);
    if (e === undefined || this.clock.now() - e.expiresAt > STALE_MAX_AGE_MS) return undefined;
    return e;
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
   * Store a scanned upstream answer. Returns the entry (also used to render this reply) or, for
   * answers that must not be cached, an uncached entry with the same shape.
   */
  store(key: string, r: ScannedResponse): CacheEntry {
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
      ttl = r.ttls.length === 0 ? 0 : Infinity;
      for (let i = 0; i < r.ttls.length; i++) {
        const t = Math.min(Math.max(r.ttls[i], minTtl), maxTtl);
        body.writeUInt32BE(t, r.ttlOffsets[i]);
        if (t < ttl) ttl = t;
      }
    } else {
      ttl = 0;
      cacheable = false;
    }
    const { data, bodyLen } = packAnswer(body, r.ttlOffsets);
    const entry: CacheEntry = { data, bodyLen, expiresAt: now + ttl * 1000, ttl, hits: 0, prefetching: false, negative };
    if (cacheable && ttl > 0) {
      this.lru.set(key, entry);
      this.servfails.delete(key);
      this.stats.inserts++;
    }
    return entry;
  }

  /** Drop everything, or every entry for one exact name (all types), or a whole subtree. */
  flush(nameWire?: string, subtree = false): number {
    if (nameWire === undefined) {
      const n = this.lru.size;
      this.lru.clear();
      this.servfails.clear();
      return n;
    }
    let n = 0;
    for (const key of [...this.lru.keys()]) {
      const name = key.slice(0, key.length - 5);
      if (subtree ? isUnder(name, nameWire) : name === nameWire) {
        this.lru.delete(key);
        n++;
      }
    }
    for (const key of [...this.servfails.keys()]) {
      const name = key.slice(0, key.length - 5);
      if (subtree ? isUnder(name, nameWire) : name === nameWire) this.servfails.delete(key);
    }
    return n;
  }

  snapshot(): CacheStats {
    this.stats.entries = this.lru.size;
    this.stats.bytes = this.lru.calculatedSize;
    return { ...this.stats };
  }
}
