/**
 * Autorate for a link whose capacity varies (LTE, cable): follows the uplink probes' RTT (shared
 * with multi-WAN; no pings of its own) and the interface's load. When the RTT rises more than
 * `thresholdMs` above its baseline while the link is loaded, the queue is building in the
 * modem: cut (×0.9, deeper while it persists). When the link is loaded and the RTT calm, raise
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

export class AutorateController {
  rate: number;
  baselineMs: number | null = null;
  private lastStep = -Infinity;
  private lastCut = -Infinity;
  private cutsInARow = 0;
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

  /** `load`: bytes sent over the shaped rate since the last step (0 … ~1). */
  step(rttMs: number, load: number, now: number): AutorateStep {
    this.pendingMax = Math.max(this.pendingMax, rttMs);
    if (now - this.lastStep < this.stepMs) return { rate: this.rate, changed: false, reason: 'between steps' };
    const rtt = this.pendingMax;
    this.pendingMax = 0;
    this.lastStep = now;
    if (this.baselineMs === null || rtt < this.baselineMs) this.baselineMs = rtt;
    else if (load < 0.5) this.baselineMs += (rtt - this.baselineMs) * 0.01; // follow a path that got longer, only when idle
    const delta = rtt - this.baselineMs;
    const before = this.rate;
    if (delta > this.thresholdMs && load > 0.5) {
      this.cutsInARow++;
      const factor = Math.max(DEEPEST, CUT - 0.1 * (this.cutsInARow - 1));
      this.rate = Math.max(this.o.min, Math.round(this.rate * factor));
      this.lastCut = now;
      return { rate: this.rate, changed: this.rate !== before, reason: `RTT ${delta.toFixed(1)} ms over baseline under load: ×${factor.toFixed(2)}` };
    }
    this.cutsInARow = 0;
    if (delta < this.thresholdMs / 3 && load > 0.8 && now - this.lastCut >= this.holdMs) {
      this.rate = Math.min(this.o.max, Math.round(this.rate * RAISE));
      return { rate: this.rate, changed: this.rate !== before, reason: `loaded and calm (RTT +${delta.toFixed(1)} ms): ×${RAISE}` };
    }
    return { rate: this.rate, changed: false, reason: 'steady' };
  }
}
