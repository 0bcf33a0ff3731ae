// The aqm suite of bench/run.mjs: a discrete-event simulation of one bottleneck link, comparing
// the FQ-CoDel engine in bench/aqm (compiled to bench/dist/aqm/), and its single-queue CoDel,
// with a deep drop-tail FIFO (a modem's buffer of 1000 packets). Bulk TCP-like flows (slow start, then +1 packet per RTT, halved on a loss at most
// once per RTT; drop-based, no ECN) share the link with a sparse flow (a 100-byte packet every
// 10 ms, like a call's audio). Reported per link rate: the sparse flow's p99 queueing delay,
// link utilisation, and Jain's fairness index over the bulk flows' throughput.
import { CodelQueue } from './dist/aqm/codel.js';
import { FqCodel } from './dist/aqm/fq-codel.js';

class Heap {
  constructor() { this.a = []; }
  push(t, fn) {
    const a = this.a;
    a.push([t, fn]);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (a[p][0] <= a[i][0]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop() {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && a[l][0] < a[m][0]) m = l;
        if (r < a.length && a[r][0] < a[m][0]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
  get size() { return this.a.length; }
}

class DropTail {
  constructor(limit) { this.q = []; this.head = 0; this.limit = limit; }
  enqueue(p, now, onDrop) {
    if (this.q.length - this.head >= this.limit) { onDrop(p); return; }
    p.enqueuedAt = now;
    this.q.push(p);
  }
  dequeue() {
    if (this.head >= this.q.length) return null;
    const p = this.q[this.head++];
    if (this.head > 4096) { this.q = this.q.slice(this.head); this.head = 0; }
    return p;
  }
}

const SPARSE = 1_000_000;

export function simulate({ rateMbit, queue, bulkFlows = 4, baseRttMs = 20, seconds = 30, warmupS = 10, fifoLimit = 1000 }) {
  const bytesPerMs = (rateMbit * 1e6) / 8 / 1000;
  const q = queue === 'fq_codel' ? new FqCodel({ target: 5, interval: 100, ecn: false, quantum: 1514, limit: 10_240 })
    : queue === 'codel' ? new CodelQueue({ target: 5, interval: 100, ecn: false })
    : new DropTail(fifoLimit);
  const ev = new Heap();
  const end = seconds * 1000;
  const from = warmupS * 1000;
  const flows = Array.from({ length: bulkFlows }, (_, i) => ({ id: i, cwnd: 2, ssthresh: Infinity, inflight: 0, lastCut: -Infinity, delivered: 0 }));
  const sparseDelays = [];
  let busyUntil = 0;
  let linkBusy = false;
  let sent = 0;

  const onDrop = (p) => {
    if (p.flow === SPARSE) return;
    const f = flows[p.flow];
    ev.push(now + baseRttMs, () => {
      f.inflight--;
      if (now - f.lastCut > baseRttMs * 2) {
        f.cwnd = Math.max(2, f.cwnd / 2);
        f.ssthresh = f.cwnd;
        f.lastCut = now;
      }
      pump(f);
    });
  };
  let now = 0;
  const kick = () => {
    if (linkBusy) return;
    const p = q.dequeue(now, onDrop);
    if (!p) return;
    linkBusy = true;
    busyUntil = now + p.size / bytesPerMs;
    ev.push(busyUntil, () => {
      linkBusy = false;
      if (now >= from) sent += p.size;
      if (p.flow === SPARSE) {
        if (now >= from) sparseDelays.push(now - p.enqueuedAt);
      } else {
        const f = flows[p.flow];
        if (now >= from) f.delivered += p.size;
        ev.push(now + baseRttMs, () => {
          f.inflight--;
          f.cwnd += f.cwnd < f.ssthresh ? 1 : 1 / f.cwnd;
          pump(f);
        });
      }
      kick();
    });
  };
  const pump = (f) => {
    while (f.inflight < Math.floor(f.cwnd)) {
      f.inflight++;
      q.enqueue({ flow: f.id, size: 1500 }, now, onDrop);
    }
    kick();
  };
  for (const f of flows) ev.push(Math.random() * 50, () => pump(f));
  const sparse = () => {
    q.enqueue({ flow: SPARSE, size: 100 }, now, onDrop);
    kick();
    if (now + 10 < end) ev.push(now + 10, sparse);
  };
  ev.push(5, sparse);
  while (ev.size > 0) {
    const [t, fn] = ev.pop();
    if (t > end) break;
    now = t;
    fn();
  }
  const s = [...sparseDelays].sort((a, b) => a - b);
  const x = flows.map((f) => f.delivered);
  const sum = x.reduce((a, b) => a + b, 0);
  return {
    rateMbit, queue,
    sparseP99Ms: s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)],
    sparseP50Ms: s[Math.floor(s.length / 2)],
    utilisation: sent / (bytesPerMs * (end - from)),
    jain: (sum * sum) / (x.length * x.reduce((a, b) => a + b * b, 0)),
  };
}

export async function aqmSuite() {
  const rows = [];
  for (const rateMbit of [10, 100]) for (const queue of ['fifo', 'codel', 'fq_codel']) rows.push(simulate({ rateMbit, queue }));
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await aqmSuite()) console.log(JSON.stringify(r));
}
