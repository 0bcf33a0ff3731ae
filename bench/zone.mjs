// Own-zone suite: 10,000 static A records answered with authority — edgedns's `zone.records`
// against Unbound's `local-data`, the same names, dnsperf -c 10, servers on core 1, interleaved.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const NAMES = 10_000;
const name = (i) => `z${String(i).padStart(5, '0')}`;
const addr = (i) => `10.77.${i >> 8}.${i & 255}`;

export async function zoneSuite({ root, run, runs, seconds, start, dnsperf, waitFor, stop, rssMb, median }) {
  writeFileSync(join(run, 'zone-queries.txt'), Array.from({ length: NAMES }, (_, i) => `${name(i)}.home.arpa A`).join('\n') + '\n');
  writeFileSync(join(run, 'edgedns-zone.yaml'), [
    'listen: [{ address: 127.0.0.1, port: 53570 }]', 'upstreams: [udp://127.0.0.2:5301]', 'log: { level: warn }',
    'zone:', '  domain: home.arpa', '  records:', ...Array.from({ length: NAMES }, (_, i) => `    - { name: ${name(i)}, type: A, value: ${addr(i)} }`), '',
  ].join('\n'));
  writeFileSync(join(run, 'unbound-zone.conf'), [
    'server:', '  verbosity: 0', '  num-threads: 1', '  do-daemonize: no', '  use-syslog: no', '  logfile: ""', '  username: ""', '  chroot: ""',
    `  directory: "${run}"`, `  pidfile: "${run}/unbound-zone.pid"`, '  do-ip6: no', '  interface: 127.0.0.1@53571', '  port: 53571',
    '  access-control: 127.0.0.0/8 allow', '  local-zone: "home.arpa." static',
    ...Array.from({ length: NAMES }, (_, i) => `  local-data: "${name(i)}.home.arpa. 300 IN A ${addr(i)}"`),
    'remote-control:', '  control-enable: no', '',
  ].join('\n'));
  const servers = [
    { name: 'edgedns', port: 53570, cmd: [process.execPath, '--max-semi-space-size=4', join(root, 'bin', 'edgedns.js'), 'serve', '-c', join(run, 'edgedns-zone.yaml')] },
    { name: 'unbound', port: 53571, cmd: ['unbound', '-d', '-c', join(run, 'unbound-zone.conf')] },
  ];
  for (const s of servers) {
    s.p = start(`${s.name}-zone`, s.cmd[0], s.cmd.slice(1));
    await waitFor(s.port, `${name(0)}.home.arpa`);
    dnsperf(s.port, join(run, 'zone-queries.txt'), ['-n', '1', '-Q', '5000']);
    s.runs = [];
  }
  for (let r = 0; r < runs; r++) {
    for (const s of servers) {
      const res = dnsperf(s.port, join(run, 'zone-queries.txt'), ['-l', String(seconds), '-c', '10']);
      s.runs.push(res.qps);
      console.log(`zone run ${r + 1}/${runs} ${s.name}: ${Math.round(res.qps)} qps`);
    }
  }
  const out = {};
  for (const s of servers) {
    out[s.name] = { median: median(s.runs), min: Math.min(...s.runs), max: Math.max(...s.runs), rss: rssMb(s.p.child.pid) };
    stop(s.p);
  }
  return out;
}

export function zoneSection(z, cacheHit) {
  const fmt = (n) => `${(n / 1000).toFixed(1)}k`;
  const e = z.edgedns;
  const u = z.unbound;
  return `
## Own zone (\`dnsperf -c 10\`, 10,000 static A records)

edgedns \`zone.records\` against Unbound \`local-data\` (one thread), the same 10,000 names, interleaved runs.

| server | qps (median) | qps (min–max) | RSS MB | vs Unbound |
| --- | --- | --- | --- | --- |
| edgedns | ${fmt(e.median)} | ${fmt(e.min)}–${fmt(e.max)} | ${e.rss.toFixed(0)} | ${((e.median / u.median) * 100).toFixed(0)}% |
| unbound | ${fmt(u.median)} | ${fmt(u.min)}–${fmt(u.max)} | ${u.rss.toFixed(0)} | 100% |

Targets: own zone ≥ 1.0× Unbound local-data — **${(e.median / u.median).toFixed(2)}×**${cacheHit ? `; ≥ 0.95× edgedns's own cache hit (${fmt(cacheHit)} in this run) — **${(e.median / cacheHit).toFixed(3)}×**` : ''}.
`;
}
