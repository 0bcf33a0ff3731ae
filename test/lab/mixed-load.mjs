// Mixed LAN queries at a fixed rate that check every answer: each query's name, type and the
// answer expected (an address, a TXT string, a PTR name, or NXDOMAIN), round-robin, over UDP
// from one socket. Prints one JSON line: sent, answered, lost (no answer within 2 s), servfail
// (per name too), wrong (an answer other than expected, with up to 10 examples), per-second
// answered counts, lost per name.
// usage: node mixed-load.mjs SERVER QPS SECONDS EXPECTATIONS_JSON_FILE
//   EXPECTATIONS: [{ "name": "c1.lan.test", "type": "A", "want": "10.203.0.101" | "NXDOMAIN" | ["a", "b"] }]
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import dnsPacket from 'dns-packet';

const [server, qpsArg, secondsArg, file] = process.argv.slice(2);
const qps = Number(qpsArg);
const seconds = Number(secondsArg);
const cases = JSON.parse(readFileSync(file, 'utf8'));
const s = dgram.createSocket('udp4');
const pending = new Map();
const res = { sent: 0, answered: 0, lost: 0, wrong: 0, servfail: 0, examples: [], perSecond: [], lostByName: {}, servfailByName: {} };
const lose = (p) => { res.lost++; res.lostByName[p.c.name] = (res.lostByName[p.c.name] ?? 0) + 1; };
let id = 0;
const t0 = Date.now();

function check(c, msg) {
  if (c.want === 'NXDOMAIN') return msg.rcode === 'NXDOMAIN';
  if (msg.rcode !== 'NOERROR') return false;
  const got = msg.answers.filter((a) => a.type === c.type).map((a) => (Array.isArray(a.data) ? a.data.map(String).join('') : String(a.data)));
  const wants = Array.isArray(c.want) ? c.want : [c.want];
  return got.length > 0 && got.every((g) => wants.includes(g));
}

s.on('message', (buf) => {
  let msg;
  try { msg = dnsPacket.decode(buf); } catch { return; }
  const p = pending.get(msg.id);
  if (!p) return;
  pending.delete(msg.id);
  res.answered++;
  const sec = Math.floor((Date.now() - t0) / 1000);
  res.perSecond[sec] = (res.perSecond[sec] ?? 0) + 1;
  if (msg.rcode === 'SERVFAIL') { // a failure said as one (an upstream that did not answer), not a wrong answer
    res.servfail++;
    res.servfailByName[p.c.name] = (res.servfailByName[p.c.name] ?? 0) + 1;
  } else if (!check(p.c, msg)) {
    res.wrong++;
    if (res.examples.length < 10) res.examples.push({ name: p.c.name, type: p.c.type, want: p.c.want, rcode: msg.rcode, got: msg.answers.map((a) => String(a.data)) });
  }
});

s.bind(0, () => {
  const perTick = qps / 100; // every 10 ms
  let owed = 0;
  let i = 0;
  const tick = setInterval(() => {
    const now = Date.now();
    for (const [k, p] of pending) if (now - p.at > 2000) { pending.delete(k); lose(p); }
    if (now - t0 >= seconds * 1000) {
      if (pending.size === 0 || now - t0 > seconds * 1000 + 2500) {
        clearInterval(tick);
        for (const p of pending.values()) lose(p);
        res.perSecond = Array.from(res.perSecond, (x) => x ?? 0);
        process.stdout.write(`${JSON.stringify(res)}\n`);
        s.close();
      }
      return;
    }
    owed += perTick;
    for (; owed >= 1; owed--) {
      const c = cases[i++ % cases.length];
      id = (id + 1) & 0xffff;
      pending.set(id, { c, at: now });
      s.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: c.type, name: c.name }] }), 53, server);
      res.sent++;
    }
  }, 10);
});
