import { describe, expect, it } from 'vitest';
import { EXACT_MAX_QPS, HeavyHitters, SAMPLE } from './heavy-hitters.js';

describe('HeavyHitters', () => {
  it('counts exactly at home-gateway rates: 3 queries are 3, never above the total', () => {
    const clock = { t: 0 };
    const hh = new HeavyHitters(() => clock.t);
    for (let i = 0; i < 3; i++) { hh.add('printer.home.arpa'); clock.t += 100; }
    for (let i = 0; i < 6; i++) { hh.add('www.example'); clock.t += 100; }
    expect(hh.top()).toEqual([{ key: 'www.example', count: 6 }, { key: 'printer.home.arpa', count: 3 }]);
    expect(hh.estimated()).toBe(false);
  });

  it('samples above the rate it can afford, marks the counts as estimates, and still finds the heavy hitters', () => {
    const clock = { t: 0 };
    const hh = new HeavyHitters(() => clock.t);
    const step = 1000 / (EXACT_MAX_QPS * 5); // five times the exact rate
    for (let i = 0; i < 200_000; i++) {
      const r = i % 10;
      hh.add(r < 3 ? 'hot.example' : r < 5 ? 'warm.example' : `cold${i}.example`);
      clock.t += step;
    }
    const top = hh.top(3);
    expect(top[0].key).toBe('hot.example');
    expect(top[1].key).toBe('warm.example');
    expect(top[0].count).toBeGreaterThan(50_000);
    expect(top[0].count).toBeLessThan(70_000);
    expect(hh.estimated()).toBe(true);
  });

  it('forgets windows older than five minutes', () => {
    const clock = { t: 0 };
    const hh = new HeavyHitters(() => clock.t);
    for (let i = 0; i < 800; i++) { hh.add('old.example'); clock.t += 10; }
    clock.t = 6 * 60_000;
    for (let i = 0; i < 400; i++) { hh.add('new.example'); clock.t += 10; }
    expect(hh.top()).toEqual([{ key: 'new.example', count: 400 }]);
  });
  it('names that are mostly new: the hot ones keep exact counts, the new ones get in sampled once the window has pruned', () => {
    const clock = { t: 0 };
    const hh = new HeavyHitters(() => clock.t);
    const step = 1000 / (EXACT_MAX_QPS / 2); // an exact rate
    for (let i = 0; i < 50_000; i++) {
      const r = i % 10;
      hh.add(r < 2 ? 'hot.example' : r === 2 ? 'warm.example' : `cold${i}.example`);
      clock.t += step;
    }
    const top = hh.top(40);
    expect(top.slice(0, 2)).toEqual([{ key: 'hot.example', count: 10_000 }, { key: 'warm.example', count: 5_000 }]);
    for (const e of top.slice(2)) expect(e.count).toBeLessThanOrEqual(SAMPLE);
    expect(hh.estimated()).toBe(true);
  });
});
