/**
 * The last 15 minutes, one sample every 5 s, for the dashboard's charts: queries per second by
 * transport and by answer source, each uplink's probe RTT and loss, and each shaped link's rate
 * beside its measured throughput. Kept from start (so a page opened now has a past), 180 samples
 * of a few numbers each; every sample is also published on `/events` as a `sample` event.
 */
import type { AdminSources } from './sources.js';

export const STEP_MS = 5000;
const KEEP = (15 * 60 * 1000) / STEP_MS;

export interface UplinkPoint {
  name: string;
  state: string;
  selected: boolean;
  rttMs: number | null;
  loss: number | null;
}

export interface QueuePoint {
  uplink: string;
  direction: 'up' | 'down';
  /** bits/s: what the shaper is set to now (autorate's current rate) */
  rate: number | null;
  /** bits/s sent through the shaper's classes over the step; null without a class sample */
  throughput: number | null;
}

export interface HistorySample {
  at: number;
  /** per second, over the step */
  qps: Record<string, number>;
  sources: Record<string, number>;
  uplinks: UplinkPoint[];
  queueing: QueuePoint[];
}

const round = (n: number) => Math.round(n * 10) / 10;

export class History {
  private readonly samples: HistorySample[] = [];
  private last: { at: number; transport: Record<string, number>; source: Record<string, number>; sent: Map<string, number> };
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly src: AdminSources, private readonly onSample: (s: HistorySample) => void = () => undefined) {
    this.last = this.read();
    this.timer = setInterval(() => this.sample(), STEP_MS);
    this.timer.unref();
  }

  private read() {
    const s = this.src.resolver().stats.snapshot();
    const sent = new Map<string, number>();
    for (const { uplink, status } of this.src.queueingClasses()) {
      for (const c of status) sent.set(`${uplink} ${c.direction}`, (sent.get(`${uplink} ${c.direction}`) ?? 0) + c.sentBytes);
    }
    return { at: Date.now(), transport: { ...s.byTransport }, source: { ...s.bySource } as Record<string, number>, sent };
  }

  sample(): HistorySample {
    const now = this.read();
    const dt = Math.max(1, now.at - this.last.at) / 1000;
    const per = (a: Record<string, number>, b: Record<string, number>, keys: string[]) =>
      Object.fromEntries(keys.map((k) => [k, round(Math.max(0, (a[k] ?? 0) - (b[k] ?? 0)) / dt)]));
    const up = this.src.uplinks();
    const queueing: QueuePoint[] = [];
    for (const r of this.src.queueingRates()) {
      for (const direction of ['up', 'down'] as const) {
        const rate = r[direction];
        if (rate === null) continue;
        const key = `${r.uplink} ${direction}`;
        const a = now.sent.get(key);
        const b = this.last.sent.get(key);
        queueing.push({ uplink: r.uplink, direction, rate, throughput: a === undefined || b === undefined ? null : Math.round(Math.max(0, a - b) * 8 / dt) });
      }
    }
    const sample: HistorySample = {
      at: now.at,
      qps: per(now.transport, this.last.transport, ['udp', 'tcp', 'dot', 'doh']),
      sources: per(now.source, this.last.source, ['local', 'cache', 'upstream', 'stale', 'error']),
      uplinks: up.uplinks.map((u) => ({ name: u.name, state: u.state, selected: u.selected, rttMs: u.rttMs, loss: u.loss })),
      queueing,
    };
    this.last = now;
    this.samples.push(sample);
    if (this.samples.length > KEEP) this.samples.shift();
    this.onSample(sample);
    return sample;
  }

  /** GET /history */
  snapshot(): { stepMs: number; samples: HistorySample[] } {
    return { stepMs: STEP_MS, samples: this.samples };
  }

  close(): void {
    clearInterval(this.timer);
  }
}
