/**
 * Timeouts for many exchanges that share one duration, on one Node timer.
 *
 * With one duration, deadlines come in the order the exchanges start, so the queue is a ring in
 * start order and only its head needs a timer. Why not a setTimeout each: the miss path starts one
 * exchange per upstream query, and each Timeout object lived exactly as long as a query in flight —
 * long enough for every scavenge to copy it and promote a share of them (bench/RESULTS.md). Here
 * an exchange costs two array slots, cleared when it ends.
 *
 * The clock is monotonic (performance.now, once per batch: `monotonicNow`): a gateway's wall clock
 * may step by years at boot.
 */
import { monotonicNow } from '../clock.js';

export interface Expiring {
  expire(): void;
}

export class DeadlineQueue<T extends Expiring> {
  private items: Array<T | null>;
  private deadlines: Float64Array;
  private mask: number;
  /** sequence numbers: head is the oldest entry still in the ring, tail the next to be given */
  private head = 0;
  private tail = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private firing = false;
  private readonly onTimer = (): void => this.fire();

  constructor(
    readonly ms: number,
    private readonly now: () => number = monotonicNow,
    capacity = 256,
  ) {
    const size = 1 << Math.ceil(Math.log2(Math.max(2, capacity)));
    this.items = new Array<T | null>(size).fill(null);
    this.deadlines = new Float64Array(size);
    this.mask = size - 1;
  }

  /** Exchanges waiting (cancelled ones not yet passed by the head count until then). */
  get length(): number {
    return this.tail - this.head;
  }

  /** `x.expire()` runs in `ms` unless `cancel` comes first; the ticket is for `cancel`. */
  add(x: T): number {
    if (this.tail - this.head > this.mask) this.grow();
    const seq = this.tail++;
    this.items[seq & this.mask] = x;
    this.deadlines[seq & this.mask] = this.now() + this.ms;
    if (this.timer === null && !this.firing) this.timer = setTimeout(this.onTimer, this.ms);
    return seq;
  }

  cancel(ticket: number): void {
    if (ticket < this.head || ticket >= this.tail) return;
    this.items[ticket & this.mask] = null;
    // Answers come back in about the order the queries left, so the head keeps up and the ring stays small.
    if (ticket === this.head) this.skipCancelled();
    if (this.head === this.tail && this.timer !== null && !this.firing) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private skipCancelled(): void {
    while (this.head < this.tail && this.items[this.head & this.mask] === null) this.head++;
  }

  private fire(): void {
    this.timer = null;
    this.firing = true;
    try {
      this.expireDue();
    } finally {
      this.firing = false;
    }
    this.skipCancelled();
    if (this.head < this.tail) {
      const wait = this.deadlines[this.head & this.mask] - this.now();
      this.timer = setTimeout(this.onTimer, Math.min(this.ms, Math.max(1, Math.ceil(wait))));
    }
  }

  private expireDue(): void {
    // A timer may run a little before performance.now() reaches its deadline (libuv's clock is cached per loop turn).
    const now = this.now() + 1;
    while (this.head < this.tail) {
      const i = this.head & this.mask;
      const x = this.items[i];
      if (x !== null) {
        if (this.deadlines[i] > now) break;
        this.items[i] = null;
      }
      this.head++;
      // expire() may add (a retry) or cancel: both keep the ring consistent, and the head has moved past x.
      if (x !== null) x.expire();
    }
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    const items = new Array<T | null>(size).fill(null);
    const deadlines = new Float64Array(size);
    const mask = size - 1;
    for (let s = this.head; s < this.tail; s++) {
      items[s & mask] = this.items[s & this.mask];
      deadlines[s & mask] = this.deadlines[s & this.mask];
    }
    this.items = items;
    this.deadlines = deadlines;
    this.mask = mask;
  }
}
