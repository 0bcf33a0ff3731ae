import { describe, expect, it } from 'vitest';
import { SlotMap } from './slot-map.js';

describe('SlotMap', () => {
  it('behaves as a Map for set, get, has, delete and size', () => {
    const m = new SlotMap<string, { n: number }>();
    const a = { n: 1 }, b = { n: 2 }, c = { n: 3 };
    m.set('a', a);
    m.set('b', b);
    expect(m.size).toBe(2);
    expect(m.get('a')).toBe(a);
    expect(m.has('b')).toBe(true);
    m.set('a', c); // replaces, no new entry
    expect(m.size).toBe(2);
    expect(m.get('a')).toBe(c);
    expect(m.delete('a')).toBe(true);
    expect(m.delete('a')).toBe(false);
    expect(m.get('a')).toBeUndefined();
    expect(m.has('a')).toBe(false);
    expect(m.size).toBe(1);
  });

  it('reuses freed slots without mixing values up', () => {
    const m = new SlotMap<number, number>();
    for (let i = 0; i < 100; i++) m.set(i, i * 10);
    for (let i = 0; i < 100; i += 2) m.delete(i);
    for (let i = 100; i < 150; i++) m.set(i, i * 10);
    expect(m.size).toBe(100);
    for (let i = 1; i < 150; i += i < 100 ? 2 : 1) expect(m.get(i)).toBe(i * 10);
    expect(m.valueList().sort((x, y) => x - y)).toEqual([...Array.from({ length: 50 }, (_, i) => (i * 2 + 1) * 10), ...Array.from({ length: 50 }, (_, i) => (100 + i) * 10)]);
  });

  it('holds nothing of a deleted value or after clear', () => {
    const m = new SlotMap<string, object>();
    m.set('x', {});
    m.delete('x');
    expect(m.valueList()).toEqual([]);
    m.set('y', {});
    m.clear();
    expect(m.size).toBe(0);
    expect(m.get('y')).toBeUndefined();
    m.set('z', { z: 1 });
    expect(m.get('z')).toEqual({ z: 1 });
  });
});
