/**
 * Top names and top clients over the last minutes in bounded memory: a frequent-items counter
 * per one-minute window (at most 2·K keys; when full, one sorted pass keeps the K largest —
 * amortized O(1) per new key, unlike Space-Saving's scan for the minimum on every new key), the
 * last WINDOWS windows merged when read. About one query in SAMPLE is recorded — after a random
 * gap (1 to 2·SAMPLE−1 queries) rather than every SAMPLE-th, which would alias with periodic
 * clients — and counts are scaled back up, so small counts are estimates; the heavy hitters it
 * exists to show are not affected. The hot path pays one decrement.
 */
export const SAMPLE = 16;
const K = 128;
const WINDOWS = 5;
const WINDOW_MS = 60_000;

class FrequentItems {
  readonly counts = new Map<string, number>();

  add(key: string): void {
    const c = this.counts.get(key);
    if (c !== undefined) {
      this.counts.set(key, c + 1);
      return;
    }
    if (this.counts.size >= 2 * K) this.prune();
    this.counts.set(key, 1);
  }

  /** Keep the K largest counts (ties at the threshold cut arbitrarily). */
  private prune(): void {
    const threshold = [...this.counts.values()].sort((a, b) => b - a)[K - 1];
    for (const [k, v] of this.counts) if (v < threshold) this.counts.delete(k);
    for (const [k, v] of this.counts) {
      if (this.counts.size <= K) break;
      if (v === threshold) this.counts.delete(k);
    }
  }
}

export class HeavyHitters {
  private windows: Array<{ start: number; sketch: FrequentItems }> = [];
  private countdown = 1;

  constructor(private readonly now: () => number = Date.now) {}

  /** Hot path: one decrement; a Map update about once in SAMPLE calls. */
  add(key: string): void {
    if (--this.countdown > 0) return;
    this.countdown = 1 + Math.floor(Math.random() * (2 * SAMPLE - 1));
    const t = this.now();
    let w = this.windows[this.windows.length - 1];
    if (w === undefined || t - w.start >= WINDOW_MS) {
      w = { start: t, sketch: new FrequentItems() };
      this.windows.push(w);
      if (this.windows.length > WINDOWS) this.windows.shift();
    }
    w.sketch.add(key);
  }

  top(n = 10): Array<{ key: string; count: number }> {
    const t = this.now();
    const merged = new Map<string, number>();
    for (const w of this.windows) {
      if (t - w.start >= WINDOWS * WINDOW_MS) continue;
      for (const [k, v] of w.sketch.counts) merged.set(k, (merged.get(k) ?? 0) + v);
    }
    return [...merged].sort((a, b) => b[1] - a[1]).slice(0, n).map(([key, count]) => ({ key, count: count * SAMPLE }));
  }
}
