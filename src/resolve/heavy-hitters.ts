/**
 * Top names and top clients over the last minutes in bounded memory: the Space-Saving algorithm
 * (Metwally et al.) with K counters per one-minute window, the last WINDOWS windows merged when
 * read. To keep the hot path cheap, a random one query in SAMPLE is recorded (random, not every
 * SAMPLE-th, which aliases with periodic clients) and counts are scaled back up, so small counts
 * are estimates; the heavy hitters it exists to show are not affected.
 */
export const SAMPLE = 8;
const K = 128;
const WINDOWS = 5;
const WINDOW_MS = 60_000;

class SpaceSaving {
  readonly counts = new Map<string, number>();

  add(key: string): void {
    const c = this.counts.get(key);
    if (c !== undefined) {
      this.counts.set(key, c + 1);
      return;
    }
    if (this.counts.size < K) {
      this.counts.set(key, 1);
      return;
    }
    // Replace the smallest counter; the newcomer inherits its count (the algorithm's bound).
    let minKey = '';
    let min = Infinity;
    for (const [k, v] of this.counts) if (v < min) { min = v; minKey = k; }
    this.counts.delete(minKey);
    this.counts.set(key, min + 1);
  }
}

export class HeavyHitters {
  private windows: Array<{ start: number; sketch: SpaceSaving }> = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Hot path: one random draw, and one Map update in SAMPLE calls. */
  add(key: string): void {
    if (Math.random() * SAMPLE >= 1) return;
    const t = this.now();
    let w = this.windows[this.windows.length - 1];
    if (w === undefined || t - w.start >= WINDOW_MS) {
      w = { start: t, sketch: new SpaceSaving() };
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
