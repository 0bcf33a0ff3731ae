import { describe, expect, it } from 'vitest';
import { CodelQueue, type AqmPacket } from './codel.js';
import { FqCodel } from './fq-codel.js';

const pkt = (flow = 1, size = 1500, ect = false): AqmPacket => ({ flow, size, ect });

/** Enqueue `backlog` packets at 0, then each ms enqueue one and dequeue one: a standing queue. */
function standingQueue(q: CodelQueue, backlog: number, ms: number, ect = false) {
  const drops: number[] = [];
  const marks: number[] = [];
  for (let i = 0; i < backlog; i++) q.enqueue(pkt(1, 1500, ect), 0);
  for (let t = 1; t <= ms; t++) {
    q.enqueue(pkt(1, 1500, ect), t);
    const before = q.stats.drops;
    const p = q.dequeue(t);
    for (let d = before; d < q.stats.drops; d++) drops.push(t);
    if (p?.ce) marks.push(t);
  }
  return { drops, marks };
}

describe('CoDel (RFC 8289)', () => {
  it('never drops while the sojourn time stays below target', () => {
    const q = new CodelQueue();
    for (let t = 0; t < 10_000; t += 1) {
      q.enqueue(pkt(), t);
      q.enqueue(pkt(), t + 0.2);
      q.dequeue(t + 0.5); // each packet waits 0.3–0.5 ms
      q.dequeue(t + 0.9);
    }
    expect(q.stats).toEqual({ drops: 0, marks: 0 });
  });

  it('drops first when the sojourn time has been above target for a whole interval', () => {
    const { drops } = standingQueue(new CodelQueue({ target: 5, interval: 100 }), 50, 200);
    // the first packet with sojourn ≥ 5 ms leaves at t = 5: first_above_time = 105
    expect(drops[0]).toBe(105);
  });

  it('spaces later drops by interval / sqrt(count)', () => {
    const { drops } = standingQueue(new CodelQueue({ target: 5, interval: 100 }), 80, 700);
    let next = 105;
    const expected = [105];
    for (let count = 1; expected.length < 6; count++) {
      next += 100 / Math.sqrt(count);
      expected.push(Math.ceil(next)); // dequeues happen on whole ms
    }
    expect(drops.slice(0, 6)).toEqual(expected);
  });

  it('marks ECN-capable packets instead of dropping them, on the same schedule', () => {
    const { drops, marks } = standingQueue(new CodelQueue({ target: 5, interval: 100, ecn: true }), 50, 300, true);
    expect(drops).toEqual([]);
    expect(marks.slice(0, 2)).toEqual([105, 205]);
  });

  it('leaves the dropping state once the queue is short again', () => {
    const q = new CodelQueue();
    standingQueue(q, 50, 200);
    expect(q.state.dropping).toBe(true);
    while (q.dequeue(201) !== null) { /* drain */ }
    q.enqueue(pkt(), 300);
    q.dequeue(300.5);
    expect(q.state.dropping).toBe(false);
  });
});

describe('FQ-CoDel (RFC 8290)', () => {
  it('serves a new sparse flow before old bulk flows', () => {
    const fq = new FqCodel({ quantum: 1514 });
    for (let i = 0; i < 100; i++) { fq.enqueue(pkt(1), 0); fq.enqueue(pkt(2), 0); }
    for (let i = 0; i < 10; i++) fq.dequeue(1); // both bulk flows have used their first quantum: old
    fq.enqueue(pkt(3, 100), 2);
    expect(fq.dequeue(2)?.flow).toBe(3);
  });

  it('shares the link by bytes, not packets, between bulk flows', () => {
    const fq = new FqCodel({ quantum: 1514, limit: 100_000 });
    for (let i = 0; i < 4000; i++) { fq.enqueue(pkt(1, 1500), 0); fq.enqueue(pkt(2, 300), 0); }
    const bytes = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const p = fq.dequeue(0)!;
      bytes.set(p.flow, (bytes.get(p.flow) ?? 0) + p.size);
    }
    expect(bytes.get(2)! / bytes.get(1)!).toBeGreaterThan(0.9);
    expect(bytes.get(2)! / bytes.get(1)!).toBeLessThan(1.1);
  });

  it('over the packet limit, drops from the fattest flow', () => {
    const fq = new FqCodel({ limit: 10 });
    for (let i = 0; i < 8; i++) fq.enqueue(pkt(1), 0);
    fq.enqueue(pkt(2), 0);
    fq.enqueue(pkt(2), 0);
    fq.enqueue(pkt(2), 0); // 11 packets: one goes, from flow 1
    expect(fq.stats.overlimit).toBe(1);
    expect(fq.length).toBe(10);
    const served: number[] = [];
    for (let p = fq.dequeue(0); p; p = fq.dequeue(0)) served.push(p.flow);
    expect(served.filter((f) => f === 2)).toHaveLength(3);
    expect(served.filter((f) => f === 1)).toHaveLength(7);
  });

  it('applies CoDel per flow: a bulk flow\'s standing queue is dropped, a sparse one untouched', () => {
    const fq = new FqCodel();
    const dropped: number[] = [];
    for (let i = 0; i < 60; i++) fq.enqueue(pkt(1), 0);
    for (let t = 1; t <= 400; t++) {
      fq.enqueue(pkt(1), t);
      if (t % 20 === 0) fq.enqueue(pkt(9, 100), t);
      fq.dequeue(t, (p) => dropped.push(p.flow));
    }
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.every((f) => f === 1)).toBe(true);
  });
});
