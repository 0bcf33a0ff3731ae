import { describe, expect, it } from 'vitest';
import { StringTable } from './string-table.js';

describe('StringTable', () => {
  it('agrees with a Map through random sets, deletes and clears, across growth', () => {
    let seed = 12345;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    const t = new StringTable<number>(4);
    const m = new Map<string, number>();
    for (let step = 0; step < 60_000; step++) {
      const key = `k${rnd(3000)}.home.arpa\x00\x01`;
      const op = rnd(10);
      if (op < 5) {
        t.set(key, step);
        m.set(key, step);
      } else if (op < 9) {
        expect(t.delete(key)).toBe(m.delete(key));
      } else {
        expect(t.get(key)).toBe(m.get(key));
      }
      if (step === 30_000) {
        t.clear();
        m.clear();
      }
      if (step % 5000 === 0) expect(t.size).toBe(m.size);
    }
    expect(t.size).toBe(m.size);
    for (let i = 0; i < 3000; i++) {
      const key = `k${i}.home.arpa\x00\x01`;
      expect(t.get(key)).toBe(m.get(key));
    }
  });

  it('finds every key after many deletions in the middle of probe chains', () => {
    const t = new StringTable<string>(8);
    for (let i = 0; i < 1000; i++) t.set(`n${i}`, `v${i}`);
    for (let i = 0; i < 1000; i += 3) t.delete(`n${i}`);
    for (let i = 0; i < 1000; i++) expect(t.get(`n${i}`)).toBe(i % 3 === 0 ? undefined : `v${i}`);
    expect(t.size).toBe(666);
  });
});
