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
  /** A queue on the faked clock, the log its jobs write their names to, and a job maker. */
  const setup = (ms: number, capacity?: number) => {
    const log: string[] = [];
    const q = new DeadlineQueue<Job>(ms, clock, capacity);
    return { log, q, job: (name: string, then?: () => void) => new Job(name, log, then) };
  };

  it('expires each entry its duration after it was added, in order', () => {
    const { log, q, job } = setup(100);
    q.add(job('a'));
    vi.advanceTimersByTime(40);
    q.add(job('b'));
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
    const { log, q, job } = setup(100);
    const a = q.add(job('a'));
    const b = q.add(job('b'));
    q.add(job('c'));
    q.cancel(b); // in the middle
    q.cancel(a); // the head: the head moves past both
    expect(q.length).toBe(1);
    vi.advanceTimersByTime(100);
    expect(log).toEqual(['c']);
    const d = q.add(job('d'));
    q.cancel(d);
    q.cancel(d); // twice is harmless
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(500);
    expect(log).toEqual(['c']);
  });

  it('grows past its first capacity and keeps order and tickets', () => {
    const { log, q, job } = setup(10, 4);
    const tickets = Array.from({ length: 20 }, (_, i) => q.add(job(`j${i}`)));
    for (const t of tickets.filter((_, i) => i % 2 === 1)) q.cancel(t);
    vi.advanceTimersByTime(10);
    expect(log).toEqual(Array.from({ length: 10 }, (_, i) => `j${i * 2}`));
  });

  it('an expiry that starts another exchange (a retry) gets its full duration', () => {
    const { log, q, job } = setup(100);
    q.add(job('first', () => q.add(job('retry'))));
    vi.advanceTimersByTime(100);
    expect(log).toEqual(['first']);
    vi.advanceTimersByTime(99);
    expect(log).toEqual(['first']);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['first', 'retry']);
  });

  it('after an expiry the timer is set for the next deadline, not a whole duration later', () => {
    const { log, q, job } = setup(100);
    q.add(job('a'));
    vi.advanceTimersByTime(70);
    q.add(job('b'));
    vi.advanceTimersByTime(30);
    expect(log).toEqual(['a']);
    vi.advanceTimersByTime(70);
    expect(log).toEqual(['a', 'b']);
  });
});
