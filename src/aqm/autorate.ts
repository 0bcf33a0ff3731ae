/**
 * Autorate for a link whose capacity varies (LTE, cable): follows the uplink probes' RTT (shared
 * with multi-WAN; no pings of its own) and the interface's load. When the RTT rises more than
 * `thresholdMs` above its baseline while the link is loaded, the queue is building in the
 * modem: cut (×0.9; again and deeper, ×0.8, ×0.7 …, while the RTT keeps growing or stays high
 * for a hold period — not while the queue a cut left behind is draining). When the link is loaded and the RTT calm, raise
 * slowly (×1.04 per step). Pure and clock-driven: `step` gets every sample.
 */
export interface AutorateOptions {
  /** bits per second */
  min: number;
  base: number;
  max: number;
  thresholdMs?: number;
  /** no raise this soon after a cut */
  holdMs?: number;
  /** at most one step per this interval; RTT samples in between count as their maximum */
  stepMs?: number;
}

export interface AutorateStep {
  rate: number;
  changed: boolean;
  reason: string;
}

export const DEFAULT_THRESHOLD_MS = 15;
const RAISE = 1.04;
const CUT = 0.9;
const DEEPEST = 0.5;
/** "loaded": sending at least this share of the shaped rate */
const RAISE_LOAD = 0.75;

export class AutorateController {
  rate: number;
  baselineMs: number | null = null;
  private lastStep = -Infinity;
  private lastCut = -Infinity;
  private cutsInARow = 0;
  private deltaAtCut = 0;
  private pendingMax = 0;
  readonly thresholdMs: number;
  private readonly holdMs: number;
  private readonly stepMs: number;

  constructor(private readonly o: AutorateOptions) {
    this.rate = o.base;
    this.thresholdMs = o.thresholdMs ?? DEFAULT_THRESHOLD_MS;
    this.holdMs = o.holdMs ?? 1000;
    this.stepMs = o.stepMs ?? 100;
  }

  /** Is a step due (else `step` only remembers the sample)? */
  due(now: number): boolean {
    return now - this.lastStep >= this.stepMs;
  }

  /**
   * `load`: bytes sent over the shaped rate since the last step (0 … ~1). `ownDelayMs`: the delay
   * our own queue adds now (its backlog at the shaped rate): probes cross it too, and it is not
   * the modem's queue — without it, a short FIFO at a low rate would look like bloat.
   */
  step(rttMs: number, load: number, now: number, ownDelayMs = 0): AutorateStep {
    this.pendingMax = Math.max(this.pendingMax, rttMs);
    if (!this.due(now)) return { rate: this.rate, changed: false, reason: 'between steps' };
    const rtt = Math.max(0, this.pendingMax - ownDelayMs);
    this.pendingMax = 0;
    this.lastStep = now;
    if (this.baselineMs === null || rtt < this.baselineMs) this.baselineMs = rtt;
    else if (load < 0.5) this.baselineMs += (rtt - this.baselineMs) * 0.01; // follow a path that got longer, only when idle
    const delta = rtt - this.baselineMs;
    const before = this.rate;
    if (delta > this.thresholdMs && load > 0.5) {
      // After a cut the modem's queue takes a while to drain, and the RTT stays high meanwhile:
      // cut again only if it is still growing, or has stayed high for a hold period.
      const again = delta > this.deltaAtCut + this.thresholdMs / 3 || now - this.lastCut >= this.holdMs;
      if (this.cutsInARow > 0 && !again) return { rate: this.rate, changed: false, reason: 'queue draining after a cut' };
      this.cutsInARow++;
      const factor = Math.max(DEEPEST, CUT - 0.1 * (this.cutsInARow - 1));
      this.rate = Math.max(this.o.min, Math.round(this.rate * factor));
      this.lastCut = now;
      this.deltaAtCut = delta;
      return { rate: this.rate, changed: this.rate !== before, reason: `RTT ${delta.toFixed(1)} ms over baseline under load: ×${factor.toFixed(2)}` };
    }
    this.cutsInARow = 0;
    if (delta < this.thresholdMs / 3 && load > RAISE_LOAD && now - this.lastCut >= this.holdMs) {
      this.rate = Math.min(this.o.max, Math.round(this.rate * RAISE));
      return { rate: this.rate, changed: this.rate !== before, reason: `loaded and calm (RTT +${delta.toFixed(1)} ms): ×${RAISE}` };
    }
    return { rate: this.rate, changed: false, reason: 'steady' };
  }
}
