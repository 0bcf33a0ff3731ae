import { afterEach, describe, expect, it, vi } from 'vitest';
import { History, type HistorySample } from './history.js';
import type { AdminSources } from './sources.js';

describe('history: the 15 minutes behind the charts', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('turns counters into rates per step: queries by transport and source, bits through the shaper', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const stats = { byTransport: { udp: 100, doh: 10 } as Record<string, number>, bySource: { local: 50, cache: 60, upstream: 0, stale: 0, error: 0 } };
    let sent = 1_000_000;
    const src = {
      resolver: () => ({ stats: { snapshot: () => stats } }),
      uplinks: () => ({ uplinks: [{ name: 'wan', state: 'up', selected: true, rttMs: 12.5, loss: 0.01 }] }),
      queueingRates: () => [{ uplink: 'wan', up: 20_000_000, down: null }],
      queueingClasses: () => [{ uplink: 'wan', status: [{ direction: 'up', sentBytes: sent }, { direction: 'up', sentBytes: 0 }] }],
    } as unknown as AdminSources;
    const published: HistorySample[] = [];
    const h = new History(src, (s) => published.push(s));
    stats.byTransport = { udp: 600, doh: 60 };
    stats.bySource = { local: 150, cache: 560, upstream: 0, stale: 0, error: 0 };
    sent += 5_000_000; // 5 MB in 5 s: 8 Mbit/s
    vi.advanceTimersByTime(5000);
    expect(published).toHaveLength(1);
    expect(published[0]).toEqual({
      at: 1_005_000,
      qps: { udp: 100, tcp: 0, dot: 0, doh: 10 },
      sources: { local: 20, cache: 100, upstream: 0, stale: 0, error: 0 },
      uplinks: [{ name: 'wan', state: 'up', selected: true, rttMs: 12.5, loss: 0.01 }],
      queueing: [{ uplink: 'wan', direction: 'up', rate: 20_000_000, throughput: 8_000_000 }],
    });
    // 15 minutes kept, the oldest dropped
    vi.advanceTimersByTime(5000 * 200);
    expect(h.snapshot().samples).toHaveLength(180);
    expect(h.snapshot().samples[0].at).toBe(1_000_000 + 5000 * 22); // 201 taken, the first 21 gone
    h.close();
  });
});
