/**
 * A string-keyed map for the hot path's per-query look-ups (own-zone answers by question key):
 * open addressing over typed arrays, hashed in JS.
 *
 * Why not a Map: every query brings its key as a new string, so `Map.get` first has V8 hash it in
 * the runtime and then probes in a builtin — 9.6% of an own-zone answer in `perf`, where the same
 * work inlined into the JIT's code is a loop over ~30 characters (the cache's index does the same;
 * bench/RESULTS.md). The seed is random (per table, or the process's KEY_SEED for question keys),
 * so crafted names cannot pile onto one probe chain. Deletion shifts the chain back (no
 * tombstones), so a table that churns stays short.
 */
/**
 * The seed of every question-key hash in this process: parseQuery hashes the key once
 * (`ParsedQuery.keyHash`) and the cache, the forward stage's in-flight table and the own zone's
 * rendered answers all probe with that one hash.
 */
export const KEY_SEED = (Math.random() * 0x100000000) | 0;

/** A key's hash: FNV-1a over its latin1 codes from `seed`, then murmur3's finalizer (the cache's index uses it too). */
export function hashString(seed: number, key: string): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return finalMix(h);
}

/** `hashString` of the latin1 string whose codes are `b[0..n)`, without making the string. */
export function hashBytes(seed: number, b: Uint8Array, n: number): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return finalMix(h);
}

function finalMix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class StringTable<V> {
  /** slot → entry id + 1, 0 when empty */
  private table: Int32Array;
  private mask: number;
  private hashes: Int32Array;
  private keys: Array<string | undefined>;
  private values: Array<V | undefined>;
  private readonly free: number[] = [];
  private used = 0;
  private count = 0;

  /** `seed`: KEY_SEED for tables of question keys, so callers may pass `ParsedQuery.keyHash`. */
  constructor(capacity = 64, private readonly seed = (Math.random() * 0x100000000) | 0) {
    const entries = 1 << Math.ceil(Math.log2(Math.max(4, capacity)));
    this.table = new Int32Array(entries * 2);
    this.mask = entries * 2 - 1;
    this.hashes = new Int32Array(entries);
    this.keys = new Array<string | undefined>(entries);
    this.values = new Array<V | undefined>(entries);
  }

  get size(): number {
    return this.count;
  }

  private hashOf(key: string): number {
    return hashString(this.seed, key);
  }

  /** The table slot holding `key`, or -1. */
  private slotOf(key: string, h: number): number {
    const t = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = t[i];
      if (v === 0) return -1;
      const id = v - 1;
      if (this.hashes[id] === h && this.keys[id] === key) return i;
    }
  }

  get(key: string, h = this.hashOf(key)): V | undefined {
    const i = this.slotOf(key, h);
    return i < 0 ? undefined : this.values[this.table[i] - 1];
  }

  set(key: string, value: V, h = this.hashOf(key)): void {
    const at = this.slotOf(key, h);
    if (at >= 0) {
      this.values[this.table[at] - 1] = value;
      return;
    }
    if (this.count >= this.hashes.length) this.grow();
    const id = this.free.length > 0 ? this.free.pop()! : this.used++;
    this.hashes[id] = h;
    this.keys[id] = key;
    this.values[id] = value;
    this.place(id, h);
    this.count++;
  }

  delete(key: string, h = this.hashOf(key)): boolean {
    let i = this.slotOf(key, h);
    if (i < 0) return false;
    const id = this.table[i] - 1;
    this.keys[id] = undefined;
    this.values[id] = undefined;
    this.free.push(id);
    this.count--;
    // Backward shift: move later members of the chain into the hole when their home allows it.
    const t = this.table;
    const mask = this.mask;
    t[i] = 0;
    for (let j = (i + 1) & mask; t[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashes[t[j] - 1] & mask;
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (between) continue;
      t[i] = t[j];
      t[j] = 0;
      i = j;
    }
    return true;
  }

  clear(): void {
    this.table.fill(0);
    this.keys.fill(undefined);
    this.values.fill(undefined);
    this.free.length = 0;
    this.used = 0;
    this.count = 0;
  }

  private place(id: number, h: number): void {
    const t = this.table;
    const mask = this.mask;
    let i = h & mask;
    while (t[i] !== 0) i = (i + 1) & mask;
    t[i] = id + 1;
  }

  private grow(): void {
    const entries = this.hashes.length * 2;
    const hashes = new Int32Array(entries);
    hashes.set(this.hashes);
    this.hashes = hashes;
    this.keys.length = entries;
    this.values.length = entries;
    this.table = new Int32Array(entries * 2);
    this.mask = entries * 2 - 1;
    for (let id = 0; id < this.used; id++) if (this.keys[id] !== undefined) this.place(id, this.hashes[id]);
  }
}
