// p99 at a fixed rate (bench suite "p99"): `node bench/p99.mjs PORT QPS SECONDS FILE` sends the
// questions of FILE (one "name type" a line, A only here) round-robin at QPS over UDP from one
// socket and prints the latency percentiles of the answers (ms) and how many got none in 2 s.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [port, qps, seconds, file] = process.argv.slice(2);
const names = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
const wire = names.map((n) => Buffer.concat([
  Buffer.from([0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
  ...n.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
  Buffer.from([0, 0, 1, 0, 1]),
]));
const sock = dgram.createSocket('udp4');
const sentAt = new Float64Array(65536).fill(-1);
const lat = [];
sock.on('message', (m) => {
  const id = m.readUInt16BE(0);
  const t = sentAt[id];
  if (t < 0) return;
  sentAt[id] = -1;
  lat.push(performance.now() - t);
});
const total = Number(qps) * Number(seconds);
const start = performance.now();
let sent = 0;
await new Promise((resolve) => {
  const tick = () => {
    // as many as are due by now: a steady rate whatever the timer's granularity
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * Number(qps)));
    for (; sent < due; sent++) {
      const q = wire[sent % wire.length];
      const id = sent & 0xffff;
      q.writeUInt16BE(id, 0);
      sentAt[id] = performance.now();
      sock.send(q, Number(port), '127.0.0.1');
    }
    if (sent >= total) resolve();
    else setImmediate(tick);
  };
  tick();
});
await new Promise((r) => setTimeout(r, 2000));
sock.close();
lat.sort((a, b) => a - b);
const p = (x) => lat[Math.min(lat.length - 1, Math.floor(lat.length * x))];
console.log(JSON.stringify({ sent, answered: lat.length, p50: p(0.5), p99: p(0.99), p999: p(0.999), max: lat[lat.length - 1] }));
