/**
 * Top names and top clients over the last five minutes, in bounded memory: a frequent-items
 * counter per one-minute window (up to CAPACITY keys; when full, one sorted pass keeps the
 * largest half — amortized O(1) per new key, unlike Space-Saving's scan for the minimum).
 *
 * Exact while it can afford to be: below EXACT_MAX_QPS every query is counted, so at a home
 * gateway's rates (and with fewer than CAPACITY distinct keys a minute) the counts are the true
 * ones and never above the totals. Above that rate about one query in SAMPLE is counted —
 * after a random gap, so periodic clients do not alias — and scaled back up, capped at the
 * window's total; such counts, and counts after a prune, are marked as estimates. Once a window
 * has pruned, new keys are let in the same way (one in about SAMPLE, counted as SAMPLE), so a
 * stream of names that are mostly new prunes rarely; keys already in are still counted each time.
 * While exact, each query reads the clock (cheap at those rates) so windows start on time; while
 * sampling, the clock is read every 256 queries, a small fraction of a second at such rates.
 */
export const SAMPLE = 16;
/** Measured: an exact count costs ~50 ns a query a counter (bench/RESULTS.md); two counters at this rate ≈ 0.2% of a core. */
export const EXACT_MAX_QPS = 20_000;
const CAPACITY = 1024;
const WINDOWS = 5;
const WINDOW_MS = 60_000;
const TICK = 256;

class Window {
  readonly counts = new Map<string, number>();
  /** queries seen in this window (counted or not) */
  total = 0;
  sampled = false;
  pruned = false;
  /** countdown to the next new key let in, once the window has pruned */
  private admit = 1;
  constructor(readonly start: number) {}

  add(key: string, by: number): void {
    const c = this.counts.get(key);
    if (c !== undefined) {
      this.counts.set(key, c + by);
      return;
    }
    if (this.pruned) {
      // Past CAPACITY keys the counts are estimates anyway: a new key gets in about one time in
      // SAMPLE (a random gap) and counts for the SAMPLE it stands for. Letting every one in made
      // a prune every CAPACITY/2 new names: with names that are mostly new, the Map's inserts,
      // deletes and rehashes were the largest allocation site at 10k queries/s (bench/RESULTS.md).
      if (--this.admit > 0) return;
      this.admit = 1 + Math.floor(Math.random() * (2 * SAMPLE - 1));
      by *= SAMPLE;
    }
    if (this.counts.size >= CAPACITY) this.prune();
    this.counts.set(key, by);
  }

  /** Keep the largest half (ties at the threshold cut arbitrarily). */
  private prune(): void {
    this.pruned = true;
    const keep = CAPACITY / 2;
    const threshold = [...this.counts.values()].sort((a, b) => b - a)[keep - 1];
    for (const [k, v] of this.counts) if (v < threshold) this.counts.delete(k);
    for (const [k, v] of this.counts) {
      if (this.counts.size <= keep) break;
      if (v === threshold) this.counts.delete(k);
    }
  }
}

export interface TopEntry {
  key: string;
  count: number;
}

export class HeavyHitters {
  private windows: Window[] = [];
  private current: Window;
  private sampling = false;
  private countdown = 1;
  private seen = 0;
  private tickAt: number;

  constructor(private readonly now: () => number = Date.now) {
    this.tickAt = now();
    this.current = this.open(this.tickAt);
  }

  private open(t: number): Window {
    const w = new Window(t);
    this.windows.push(w);
    if (this.windows.length > WINDOWS) this.windows.shift();
    return w;
  }

  /** Hot path: a counter and, while exact, a clock read and one Map update. */
  add(key: string): void {
    if (!this.sampling) {
      const t = this.now();
      if (t - this.current.start >= WINDOW_MS) this.current = this.open(t);
      this.current.total++;
      if ((++this.seen & (TICK - 1)) === 0) this.tick(t);
      this.current.add(key, 1);
      return;
    }
    this.current.total++;
    if ((++this.seen & (TICK - 1)) === 0) this.tick(this.now());
    if (--this.countdown > 0) return;
    this.countdown = 1 + Math.floor(Math.random() * (2 * SAMPLE - 1));
    this.current.sampled = true;
    this.current.add(key, SAMPLE);
  }

  /** Every TICK queries: the rate since the last tick decides exact or sampled; a new minute opens a window. */
  private tick(t: number): void {
    const elapsed = t - this.tickAt;
    this.tickAt = t;
    this.sampling = elapsed < (TICK * 1000) / EXACT_MAX_QPS;
    if (t - this.current.start >= WINDOW_MS) this.current = this.open(t);
  }

  /** The n largest over the last five minutes; never more than the queries seen. */
  top(n = 10): TopEntry[] {
    const t = this.now();
    if (t - this.current.start >= WINDOW_MS) this.current = this.open(t);
    const merged = new Map<string, number>();
    let total = 0;
    for (const w of this.live(t)) {
      total += w.total;
      for (const [k, v] of w.counts) merged.set(k, (merged.get(k) ?? 0) + Math.min(v, w.total));
    }
    return [...merged].sort((a, b) => b[1] - a[1]).slice(0, n).map(([key, count]) => ({ key, count: Math.min(count, total) }));
  }

  /** Are the counts of `top` estimates (sampled, or pruned past CAPACITY keys)? */
  estimated(): boolean {
    return this.live(this.now()).some((w) => w.sampled || w.pruned);
  }

  private live(t: number): Window[] {
    return this.windows.filter((w) => t - w.start < WINDOWS * WINDOW_MS);
  }
}
