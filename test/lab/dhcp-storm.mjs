// A DHCPv4 lease storm from one namespace: N clients (made-up MACs 02:1a:b0:00:HH:LL, hostnames
// PREFIX001…), each DISCOVER → OFFER → REQUEST → ACK, all at once; with `renew`, each client asks
// again for the address it holds (INIT-REBOOT REQUEST), as a LAN full of clients renewing does.
// Broadcast both ways (the broadcast flag), so one socket on port 68 hears every answer.
// Prints one JSON line: { acked, naks, timeouts, leases: { hostname: address } }.
// usage: node dhcp-storm.mjs N PREFIX [renew LEASES_JSON_FILE]
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';

const [n, prefix, mode, file] = process.argv.slice(2);
const count = Number(n);
const held = mode === 'renew' ? JSON.parse(readFileSync(file, 'utf8')).leases : {};
const clients = Array.from({ length: count }, (_, i) => ({
  i, xid: (0x5e000000 + i) >>> 0, name: `${prefix}${String(i + 1).padStart(3, '0')}`,
  mac: Buffer.from([0x02, 0x1a, 0xb0, 0x00, (i >> 8) & 0xff, i & 0xff]), state: 'start', address: null, server: null, tries: 0,
}));
const byXid = new Map(clients.map((c) => [c.xid, c]));

function message(c, type) {
  const b = Buffer.alloc(300);
  b[0] = 1; b[1] = 1; b[2] = 6;
  b.writeUInt32BE(c.xid, 4);
  b.writeUInt16BE(0x8000, 10); // broadcast flag
  c.mac.copy(b, 28);
  b.writeUInt32BE(0x63825363, 236);
  let o = 240;
  const opt = (code, data) => { b[o++] = code; b[o++] = data.length; data.copy(b, o); o += data.length; };
  opt(53, Buffer.from([type]));
  opt(61, Buffer.concat([Buffer.from([1]), c.mac]));
  opt(12, Buffer.from(c.name));
  if (type === 3 && c.address) opt(50, Buffer.from(c.address.split('.').map(Number)));
  if (type === 3 && c.server) opt(54, Buffer.from(c.server.split('.').map(Number)));
  opt(55, Buffer.from([1, 3, 6, 15, 51]));
  b[o++] = 255;
  return b.subarray(0, Math.max(o, 244));
}

function options(b) {
  const out = new Map();
  for (let o = 240; o < b.length && b[o] !== 255;) {
    if (b[o] === 0) { o++; continue; }
    out.set(b[o], b.subarray(o + 2, o + 2 + b[o + 1]));
    o += 2 + b[o + 1];
  }
  return out;
}

const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
const send = (c, type) => s.send(message(c, type), 67, '255.255.255.255');
let naks = 0;
s.on('message', (b) => {
  if (b.length < 244 || b[0] !== 2) return;
  const c = byXid.get(b.readUInt32BE(4));
  if (!c) return;
  const o = options(b);
  const type = o.get(53)?.[0];
  const yiaddr = [...b.subarray(16, 20)].join('.');
  const server = o.get(54) ? [...o.get(54)].join('.') : null;
  if (type === 2 && c.state === 'discover') { c.address = yiaddr; c.server = server; c.state = 'request'; send(c, 3); }
  else if (type === 5 && c.state === 'request') { c.address = yiaddr; c.state = 'acked'; }
  else if (type === 6) { naks++; c.state = 'nak'; }
});
s.bind(68, '0.0.0.0', () => {
  s.setBroadcast(true);
  for (const c of clients) {
    if (mode === 'renew' && held[c.name]) { c.address = held[c.name]; c.state = 'request'; send(c, 3); } // INIT-REBOOT: no server id
    else { c.state = 'discover'; send(c, 1); }
  }
  // Each second, clients still waiting ask again (a lost broadcast), six times at most.
  const timer = setInterval(() => {
    const waiting = clients.filter((c) => c.state === 'discover' || c.state === 'request');
    if (waiting.length === 0 || waiting.every((c) => c.tries >= 6)) {
      clearInterval(timer);
      const leases = Object.fromEntries(clients.filter((c) => c.state === 'acked').map((c) => [c.name, c.address]));
      process.stdout.write(`${JSON.stringify({ acked: Object.keys(leases).length, naks, timeouts: waiting.length, leases })}\n`);
      s.close();
      return;
    }
    for (const c of waiting) { c.tries++; send(c, c.state === 'discover' ? 1 : 3); }
  }, 1000);
});
