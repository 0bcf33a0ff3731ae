// DDNS load client (runs on the load core): `updates PORT COUNT WINDOW PREFIX` sends COUNT
// TSIG-signed UPDATEs (one name, one A record each), WINDOW in flight, and prints acknowledged
// per second; `latency PORT COUNT` sends one UPDATE at a time and asks for the name until it
// answers (update → answer, ms); `axfr PORT ZONE` times a whole AXFR over TCP.
import { Buffer } from 'node:buffer';
import dgram from 'node:dgram';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { CLASS_IN, RRType } from '../dist/dns/constants.js';
import { signRequest } from '../dist/dns/tsig.js';
import { buildUpdate, valueToRdata } from '../dist/dns/update-message.js';

const KEY = { name: 'bench', algorithm: 'hmac-sha256', secret: Buffer.from('YmVuY2gtc2VjcmV0LWZvci1kZG5zLWxvYWQh', 'base64') };
const [mode, portText, ...rest] = process.argv.slice(2);
const port = Number(portText);
const addrOf = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const update = (id, name, addr) => signRequest(buildUpdate(id, 'home.arpa', [], [{ name, type: RRType.A, cls: CLASS_IN, ttl: 300, rdata: valueToRdata(RRType.A, addr) }]), KEY, Math.floor(Date.now() / 1000)).message;

function query(id, name) {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const q = Buffer.concat([Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
  return q;
}

async function updates(count, window, prefix) {
  const sock = dgram.createSocket('udp4');
  let next = 0; let acked = 0; let failed = 0; let lost = 0; let inflight = 0;
  const timers = new Map();
  const t0 = performance.now();
  await new Promise((resolve) => {
    const send = () => {
      while (inflight < window && next < count) {
        const i = next++;
        const id = i & 0xffff;
        inflight++;
        timers.set(id, setTimeout(() => { timers.delete(id); lost++; inflight--; send(); if (inflight === 0 && next >= count) resolve(); }, 2000));
        sock.send(update(id, `${prefix}${i}.home.arpa`, addrOf(i)), port, '127.0.0.1');
      }
    };
    sock.on('message', (m) => {
      const id = m.readUInt16BE(0);
      const t = timers.get(id);
      if (!t) return;
      clearTimeout(t);
      timers.delete(id);
      inflight--;
      if ((m[3] & 15) === 0) acked++; else failed++;
      send();
      if (inflight === 0 && next >= count) resolve();
    });
    send();
  });
  const seconds = (performance.now() - t0) / 1000;
  sock.close();
  return { acked, failed, lost, seconds, perSecond: acked / seconds };
}

async function latency(count) {
  const sock = dgram.createSocket('udp4');
  const waits = new Map();
  sock.on('message', (m) => { const w = waits.get(m.readUInt16BE(0)); if (w) { waits.delete(m.readUInt16BE(0)); w(m); } });
  const ask = (id, msg) => new Promise((resolve) => {
    waits.set(id, resolve);
    sock.send(msg, port, '127.0.0.1');
    // only this ask's own entry: a later ask may reuse the ID
    setTimeout(() => { if (waits.get(id) === resolve) { waits.delete(id); resolve(null); } }, 1000);
  });
  const ms = [];
  for (let i = 0; i < count; i++) {
    const name = `lat${i}.home.arpa`;
    const t = performance.now();
    sock.send(update(40000 + i, name, addrOf(i)), port, '127.0.0.1');
    for (let k = 0; ; k++) {
      const r = await ask(1 + (k % 30000), query(1 + (k % 30000), name));
      if (r && r.readUInt16BE(6) > 0) break;
      if (performance.now() - t > 5000) break;
    }
    ms.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 5));
  }
  sock.close();
  ms.sort((a, b) => a - b);
  return { count, p50: ms[Math.floor(count * 0.5)], p99: ms[Math.floor(count * 0.99)], max: ms[count - 1] };
}

/** Offset after the (possibly compressed) name at `at`. */
function skipName(m, at) {
  for (;;) {
    const l = m[at];
    if (l === 0) return at + 1;
    if ((l & 0xc0) === 0xc0) return at + 2;
    at += 1 + l;
  }
}

/** How many SOA records a transfer message carries (the transfer ends at its second). */
function soaCount(m) {
  let at = 12;
  for (let i = m.readUInt16BE(4); i > 0; i--) at = skipName(m, at) + 4;
  let n = 0;
  for (let i = m.readUInt16BE(6); i > 0; i--) {
    at = skipName(m, at);
    if (m.readUInt16BE(at) === RRType.SOA) n++;
    at += 10 + m.readUInt16BE(at + 8);
  }
  return n;
}

function axfr(zone) {
  return new Promise((resolve, reject) => {
    const q = query(7, zone);
    q.writeUInt16BE(RRType.AXFR, q.length - 4);
    const t0 = performance.now();
    const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q])));
    let buf = Buffer.alloc(0); let records = 0; let messages = 0; let soas = 0;
    s.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + m.length);
        if ((m[3] & 15) !== 0) { s.destroy(); reject(new Error(`AXFR rcode ${m[3] & 15}`)); return; }
        messages++;
        records += m.readUInt16BE(6);
        soas += soaCount(m);
        if (soas >= 2) {
          const ms = performance.now() - t0;
          s.destroy();
          resolve({ ms, records, messages });
          return;
        }
      }
    });
    s.on('error', reject);
  });
}

let out;
if (mode === 'updates') out = await updates(Number(rest[0]), Number(rest[1]), rest[2] ?? 'u');
else if (mode === 'latency') out = await latency(Number(rest[0]));
else if (mode === 'axfr') out = await axfr(rest[0]);
console.log(JSON.stringify(out));
