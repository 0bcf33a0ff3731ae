/**
 * Records that other modules change one owner at a time (leases), per origin. The layers outlive
 * config reloads (the zone built from the file is replaced; these are not). Changes are made
 * synchronously, so a batch applied in one call is seen whole by the next query.
 */
import type { ZoneRecord } from './records.js';

export type TypeMap = Map<string, ZoneRecord[]>;

/**
 * Two sources (say a lease and a DDNS update) with records of one name and type: the newest
 * claim wins, the first claim wins, or both are served. `leases.conflict` sets it.
 */
export type LayerConflict = 'newest' | 'first' | 'static-wins-only';

/** a.b.c → ['b.c', 'c'] */
function ancestors(owner: string): string[] {
  const out: string[] = [];
  for (let i = owner.indexOf('.'); i !== -1; i = owner.indexOf('.', i + 1)) out.push(owner.slice(i + 1));
  return out;
}

export class ZoneLayers {
  readonly byOrigin = new Map<string, Map<string, TypeMap>>();
  /**
   * The zone's SOA serial, here because it outlives reloads like the layers do: a reload and
   * every batch of layer changes bump it (see ZoneHistory), and it never goes back.
   */
  serial = 0;
  /** Told of every owner about to change (before the change): the IXFR history, the rendered answers. */
  private readonly touchListeners = new Set<(owner: string) => void>();
  conflict: LayerConflict = 'newest';
  /** "origin\0owner\0type" → when that claim began and when it was last set (a sequence, not a clock) */
  private readonly claimed = new Map<string, { first: number; last: number }>();
  private seq = 0;
  /** name → how many layer owners sit below it, so empty non-terminals (wg in phone.wg.home.arpa) exist */
  private readonly below = new Map<string, number>();

  watchTouches(cb: (owner: string) => void): () => void {
    this.touchListeners.add(cb);
    return () => this.touchListeners.delete(cb);
  }

  private touch(owner: string): void {
    for (const cb of this.touchListeners) cb(owner);
  }

  /** Is `name` an empty non-terminal of some layer's owner? */
  hasDescendant(name: string): boolean {
    return this.below.has(name);
  }

  private count(owner: string, by: 1 | -1): void {
    for (const a of ancestors(owner)) {
      const n = (this.below.get(a) ?? 0) + by;
      if (n > 0) this.below.set(a, n);
      else this.below.delete(a);
    }
  }

  /** Set (or, with an empty list, remove) the records of one owner and type in a layer. */
  set(origin: string, owner: string, type: string, records: ZoneRecord[]): void {
    let layer = this.byOrigin.get(origin);
    if (!layer) this.byOrigin.set(origin, (layer = new Map()));
    let types = layer.get(owner);
    if (records.length === 0 && !types) return;
    this.touch(owner);
    const k = `${origin}\0${owner}\0${type}`;
    if (records.length === 0) this.claimed.delete(k);
    else {
      const c = this.claimed.get(k);
      if (c) c.last = ++this.seq;
      else this.claimed.set(k, { first: ++this.seq, last: this.seq });
    }
    if (records.length === 0) {
      if (!types) return;
      types.delete(type);
      if (types.size === 0) {
        layer.delete(owner);
        this.count(owner, -1);
      }
      return;
    }
    if (!types) {
      layer.set(owner, (types = new Map()));
      this.count(owner, 1);
    }
    types.set(type, records);
  }

  /**
   * Of two layers' records for one owner and type, the ones served under `conflict`: 'a' or 'b'
   * alone, or 'both'.
   */
  settle(owner: string, type: string, a: string, b: string): 'a' | 'b' | 'both' {
    if (this.conflict === 'static-wins-only') return 'both';
    const ca = this.claimed.get(`${a}\0${owner}\0${type}`);
    const cb = this.claimed.get(`${b}\0${owner}\0${type}`);
    if (!ca || !cb) return 'both';
    if (this.conflict === 'first') return ca.first <= cb.first ? 'a' : 'b';
    return ca.last >= cb.last ? 'a' : 'b';
  }

  clear(origin: string): void {
    for (const [owner, types] of this.byOrigin.get(origin) ?? []) {
      this.touch(owner);
      this.count(owner, -1);
      for (const t of types.keys()) this.claimed.delete(`${origin}\0${owner}\0${t}`);
    }
    this.byOrigin.delete(origin);
  }

  get size(): number {
    return this.byOrigin.size;
  }
}
