import { describe, expect, it } from 'vitest';
import { HeavyHitters } from './heavy-hitters.js';

describe('HeavyHitters', () => {
  it('finds the heavy hitters among many distinct keys in bounded memory', () => {
    const clock = { t: 0 };
    const hh = new HeavyHitters(() => clock.t);
    for (let i = 0; i < 200_000; i++) {
      const r = i % 10;
      hh.add(r < 3 ? 'hot.example' : r < 5 ? 'warm.example' : `cold${i}.example`);
    }
    const top = hh.top(3);
    expect(top[0].key).toBe('hot.example');
    expect(top[1].key).toBe('warm.example');
    expect(top[0].count).toBeGreaterThan(50_000);
    expect(top[0].count).toBeLessThan(70_000);
  });

  it('forgets windows older than five minutes', () => {
    const clock = { t: 0 };
    const hh = new HeavyHitters(() => clock.t);
    for (let i = 0; i < 800; i++) hh.add('old.example');
    clock.t = 6 * 60_000;
    for (let i = 0; i < 400; i++) hh.add('new.example');
    expect(hh.top().map((x) => x.key)).toEqual(['new.example']);
  });
});
