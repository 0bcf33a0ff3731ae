// DDNS suite: persisted UPDATEs per second, update → answer latency, and AXFR of a 50,000-name
// zone, for edgedns and, in the same run, Knot DNS (a primary that takes updates) — each server
// on core 1, the load client (bench/ddns-load.mjs) on core 0, both on loopback.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SECRET = 'YmVuY2gtc2VjcmV0LWZvci1kZG5zLWxvYWQh';
const NAMES = 50_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

function load(root, ...args) {
  const out = execFileSync('taskset', ['-c', '0', process.execPath, join(root, 'bench', 'ddns-load.mjs'), ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1));
}

async function waitSoa(port) {
  for (let i = 0; i < 100; i++) {
    try {
      if (/status: NOERROR/.test(execFileSync('dig', ['@127.0.0.1', '-p', String(port), 'home.arpa', 'SOA', '+tries=1', '+time=1'], { encoding: 'utf8' }))) return;
    } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`nothing serves home.arpa on ${port}`);
}

function servers(run) {
  const dir = join(run, 'ddns');
  mkdirSync(join(dir, 'knot'), { recursive: true });
  writeFileSync(join(dir, 'bench.tsig'), `${SECRET}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'edgedns.yaml'), [
    'listen: [{ address: 127.0.0.1, port: 53580 }]', 'zone: { domain: home.arpa }', 'upstreams: [udp://127.0.0.2:5301]', 'log: { level: warn }',
    'ddns:', `  keys: [{ name: bench, algorithm: hmac-sha256, secret-file: ${join(dir, 'bench.tsig')} }]`,
    '  accept: [{ key: bench, names: ["*.home.arpa"], types: [A] }]', `  journal: ${join(dir, 'edgedns.journal')}`,
    '  transfer: { allow: [{ from: 127.0.0.1/32 }] }', '',
  ].join('\n'));
  writeFileSync(join(dir, 'knot', 'home.arpa.zone'), '$ORIGIN home.arpa.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 127.0.0.1\n');
  writeFileSync(join(dir, 'knot', 'knot.conf'), [
    'server:', `    rundir: "${join(dir, 'knot')}"`, '    listen: 127.0.0.1@53590', '    udp-workers: 1', '    tcp-workers: 1', '    background-workers: 1',
    'database:', `    storage: "${join(dir, 'knot')}"`, 'log:', '  - target: stderr', '    any: error',
    'key:', '  - id: bench', '    algorithm: hmac-sha256', `    secret: ${SECRET}`,
    'acl:', '  - id: upd', '    key: bench', '    action: update', '  - id: xfr', '    address: 127.0.0.1', '    action: transfer',
    'zone:', '  - domain: home.arpa', `    storage: "${join(dir, 'knot')}"`, '    zonefile-sync: -1', '    journal-content: changes', '    acl: [upd, xfr]', '',
  ].join('\n'));
  const haveKnot = (() => { try { execFileSync('sh', ['-c', 'command -v knotd'], { stdio: 'ignore' }); return true; } catch { return false; } })();
  if (!haveKnot) console.log('ddns: knotd not installed (apt-get install knot): edgedns alone');
  return [
    { name: 'edgedns', port: 53580, cmd: [process.execPath, '--max-semi-space-size=4', join(run, '..', '..', 'bin', 'edgedns.js'), 'serve', '-c', join(dir, 'edgedns.yaml')] },
    { name: 'knot', port: 53590, cmd: ['knotd', '-c', join(dir, 'knot', 'knot.conf')] },
  ].filter((s) => s.name !== 'knot' || haveKnot);
}

export async function ddnsSuite(root, run) {
  const out = {};
  for (const s of servers(run)) {
    const child = spawn('taskset', ['-c', '1', ...s.cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      await waitSoa(s.port);
      const burst = load(root, 'updates', String(s.port), String(NAMES), '64', 'u');
      console.log(`ddns ${s.name}: ${burst.acked} updates acknowledged in ${burst.seconds.toFixed(2)} s (${Math.round(burst.perSecond)}/s), failed ${burst.failed}, lost ${burst.lost}`);
      const lat = load(root, 'latency', String(s.port), '500');
      console.log(`ddns ${s.name}: update → answer p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms`);
      const axfrs = [0, 1, 2].map(() => load(root, 'axfr', String(s.port), 'home.arpa'));
      const axfr = axfrs.sort((a, b) => a.ms - b.ms)[1];
      console.log(`ddns ${s.name}: AXFR of ${axfr.records} records in ${axfr.ms.toFixed(0)} ms (${axfr.messages} messages)`);
      out[s.name] = { burst, lat, axfr, rss: rssMb(child.pid) };
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
  return out;
}

export function ddnsSection(d) {
  const e = d.edgedns;
  const k = d.knot;
  const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '—');
  const row = (name, x) => x ? `| ${name} | ${Math.round(x.burst.perSecond).toLocaleString('en')}/s (${x.burst.acked.toLocaleString('en')} of ${NAMES.toLocaleString('en')}, lost ${x.burst.lost}) | ${x.lat.p50.toFixed(2)} / ${x.lat.p99.toFixed(2)} ms | ${x.axfr.ms.toFixed(0)} ms (${x.axfr.records.toLocaleString('en')} records) | ${x.rss.toFixed(0)} MB |` : '';
  return `
## DDNS (RFC 2136 updates, AXFR)

\`bench/ddns.mjs\`: ${NAMES.toLocaleString('en')} TSIG-signed UPDATEs (one new name each, 64 in flight), each acknowledged only once on disk
(edgedns: its journal, fdatasync'ed; Knot: its journal); then 500 updates one at a time, each followed by queries for the
name until it answers (update → answer); then the AXFR of the ${NAMES.toLocaleString('en')}-name zone over TCP (median of 3).
Server on core 1, client on core 0.

| server | updates persisted | update → answer p50 / p99 | AXFR | RSS after |
| --- | --- | --- | --- | --- |
${row('edgedns', e)}
${row('knot', k)}

Targets: ≥ 5,000 updates/s — ${e ? `**${Math.round(e.burst.perSecond).toLocaleString('en')}/s**` : '—'} (${ratio(e?.burst.perSecond, k?.burst.perSecond)} Knot);
update → answer p99 < 50 ms — ${e ? `**${e.lat.p99.toFixed(2)} ms**` : '—'}; AXFR of 50k names < 1 s — ${e ? `**${e.axfr.ms.toFixed(0)} ms**` : '—'} (${ratio(k?.axfr.ms, e?.axfr.ms)} Knot's speed).
`;
}
