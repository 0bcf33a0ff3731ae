import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue } from './deadline-queue.js';

class Job {
  expired = 0;
  constructor(readonly name: string, private readonly log: string[], private readonly then?: () => void) {}
  expire(): void {
    this.expired++;
    this.log.push(this.name);
    this.then?.();
  }
}

// Fake timers, and the queue reads the faked Date.now for its clock, so time moves only when the test says.
describe('DeadlineQueue', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const clock = (): number => Date.now();

  it('expires each entry its duration after it was added, in order', () => {
    const log: string[] = [];
    const q = new DeadlineQueue<Job>(100, clock);
    q.add(new Job('a', log));
    vi.advanceTimersByTime(40);
    q.add(new Job('b', log));
    vi.advanceTimersByTime(59);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['a']);
    vi.advanceTimersByTime(39);
    expect(log).toEqual(['a']);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['a', 'b']);
    expect(q.length).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never expires a cancelled entry, wherever it sits, and drops its timer when none is left', () => {
    const log: string[] = [];
    const q = new DeadlineQueue<Job>(100, clock);
    const a = q.add(new Job('a', log));
    const b = q.add(new Job('b', log));
    q.add(new Job('c', log));
    q.cancel(b); // in the middle
    q.cancel(a); // the head: the head moves past both
    expect(q.length).toBe(1);
    vi.advanceTimersByTime(100);
    expect(log).toEqual(['c']);
    const d = q.add(new Job('d', log));
    q.cancel(d);
    q.cancel(d); // twice is harmless
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(500);
    expect(log).toEqual(['c']);
  });

  it('grows past its first capacity and keeps order and tickets', () => {
    const log: string[] = [];
    const q = new DeadlineQueue<Job>(10, clock, 4);
    const tickets = Array.from({ length: 20 }, (_, i) => q.add(new Job(`j${i}`, log)));
    for (const t of tickets.filter((_, i) => i % 2 === 1)) q.cancel(t);
    vi.advanceTimersByTime(10);
    expect(log).toEqual(Array.from({ length: 10 }, (_, i) => `j${i * 2}`));
  });

  it('an expiry that starts another exchange (a retry) gets its full duration', () => {
    const log: string[] = [];
    const q = new DeadlineQueue<Job>(100, clock);
    q.add(new Job('first', log, () => q.add(new Job('retry', log))));
    vi.advanceTimersByTime(100);
    expect(log).toEqual(['first']);
    vi.advanceTimersByTime(99);
    expect(log).toEqual(['first']);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['first', 'retry']);
  });

  it('after an expiry the timer is set for the next deadline, not a whole duration later', () => {
    const log: string[] = [];
    const q = new DeadlineQueue<Job>(100, clock);
    q.add(new Job('a', log));
    vi.advanceTimersByTime(70);
    q.add(new Job('b', log));
    vi.advanceTimersByTime(30);
    expect(log).toEqual(['a']);
    vi.advanceTimersByTime(70);
    expect(log).toEqual(['a', 'b']);
  });
});
