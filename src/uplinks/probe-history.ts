/**
 * Recent results of one probe target: RTT as an EWMA and as p50/p99 over a window, and loss over
 * the same window. A ring buffer of fixed size, so a long-running probe costs no growing memory.
 */
export const HISTORY_WINDOW = 100;
const EWMA_WEIGHT = 0.2;

export interface ProbeSummary {
  /** the last result */
  up: boolean | null;
  lastRttMs: number | null;
  ewmaMs: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** 0..1 over the window; null before the first result */
  loss: number | null;
  samples: number;
  lastError: string | null;
}

export class ProbeHistory {
  /** RTT in ms, NaN for a failure */
  private readonly ring = new Float64Array(HISTORY_WINDOW);
  private count = 0;
  private pos = 0;
  private ewma: number | null = null;
  private last: number | null = null;
  private lastOk: boolean | null = null;
  private lastError: string | null = null;

  add(ok: boolean, rttMs: number, error?: string): void {
    this.ring[this.pos] = ok ? rttMs : Number.NaN;
    this.pos = (this.pos + 1) % HISTORY_WINDOW;
    if (this.count < HISTORY_WINDOW) this.count++;
    this.lastOk = ok;
    if (ok) {
      this.last = rttMs;
      this.ewma = this.ewma === null ? rttMs : this.ewma * (1 - EWMA_WEIGHT) + rttMs * EWMA_WEIGHT;
      this.lastError = null;
    } else this.lastError = error ?? 'failed';
  }

  summary(): ProbeSummary {
    const rtts: number[] = [];
    for (let i = 0; i < this.count; i++) if (!Number.isNaN(this.ring[i])) rtts.push(this.ring[i]);
    rtts.sort((a, b) => a - b);
    const q = (p: number) => (rtts.length === 0 ? null : rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))]);
    return {
      up: this.lastOk,
      lastRttMs: this.last,
      ewmaMs: this.ewma,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      loss: this.count === 0 ? null : (this.count - rtts.length) / this.count,
      samples: this.count,
      lastError: this.lastError,
    };
  }
}
