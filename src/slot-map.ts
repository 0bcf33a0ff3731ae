/**
 * A Map for short-lived values held by a long-lived owner (queries in flight): the values sit in
 * an array slot of ours, the Map holds only the slot's number, and a deleted value's slot is
 * cleared at once.
 *
 * Why not a plain Map: when V8 rehashes a Map it keeps the old hash table, entries and all, as a
 * forward for iterators. Once the Map is in old space, each such table keeps every value it held
 * alive through the scavenges until the next major GC. So a busy in-flight Map promoted the whole
 * graph of nearly every query in flight: measured on the miss path, half of all the bytes it
 * allocated (bench/RESULTS.md). With slot numbers in the Map, an old table holds only small
 * integers.
 */
export class SlotMap<K, V> {
  private readonly index = new Map<K, number>();
  private values: Array<V | undefined> = [];
  private readonly free: number[] = [];

  get size(): number {
    return this.index.size;
  }

  has(key: K): boolean {
    return this.index.has(key);
  }

  get(key: K): V | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.values[i];
  }

  set(key: K, value: V): void {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.free.length > 0 ? this.free.pop()! : this.values.length;
      this.index.set(key, i);
    }
    this.values[i] = value;
  }

  delete(key: K): boolean {
    const i = this.index.get(key);
    if (i === undefined) return false;
    this.index.delete(key);
    this.values[i] = undefined;
    this.free.push(i);
    return true;
  }

  /** The values now held, in no particular order. */
  valueList(): V[] {
    const out: V[] = [];
    for (const i of this.index.values()) out.push(this.values[i]!);
    return out;
  }

  clear(): void {
    this.index.clear();
    this.values = [];
    this.free.length = 0;
  }
}
