import { describe, expect, it } from 'vitest';
import { closeTurn, monotonicNow, openTurn, systemClock } from './clock.js';

const spin = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* let both clocks move */ }
};

describe('the turn clock', () => {
  it('reads each clock once per turn, and fresh outside one', () => {
    const before = systemClock.now();
    openTurn();
    const wall = systemClock.now();
    const mono = monotonicNow();
    spin(5);
    expect(systemClock.now()).toBe(wall);
    expect(monotonicNow()).toBe(mono);
    openTurn(); // a turn inside a turn keeps the outer reading
    spin(2);
    expect(systemClock.now()).toBe(wall);
    closeTurn();
    expect(monotonicNow()).toBe(mono);
    closeTurn();
    expect(wall).toBeGreaterThanOrEqual(before);
    expect(monotonicNow()).toBeGreaterThanOrEqual(mono + 7);
    expect(systemClock.now()).toBeGreaterThanOrEqual(wall + 6);
  });

  it('takes a new reading in the next turn', () => {
    openTurn();
    const first = monotonicNow();
    closeTurn();
    spin(3);
    openTurn();
    try {
      expect(monotonicNow()).toBeGreaterThanOrEqual(first + 3);
    } finally {
      closeTurn();
    }
  });
});
