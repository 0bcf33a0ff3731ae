// The uplinks suite of bench/run.mjs: how fast a failure moves traffic to the other WAN, and
// what probing costs. Everything runs in network namespaces made here and removed afterwards.
//  1. switch time: the multi-WAN lab (test/fixtures/multiwan-lab.sh), edgedns in the gateway
//     with two uplinks; from the moment wan1's ISP link goes down (or is blackholed, carrier
//     up) to edgedns's "uplink selection" log line, median of several runs.
//  2. probe cost: 10 uplinks (veth pairs to one "far" namespace answering DNS and ping), each
//     with a dns and an icmp probe every second (2 probes/s per uplink); edgedns's CPU over 20 s,
//     its ping children included.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const LAB = join(root, 'test', 'fixtures', 'multiwan-lab.sh');
const BIN = join(root, 'bin', 'edgedns.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ipn = (ns, ...args) => execFileSync('ip', ['-n', ns, ...args]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Answers any DNS query with its own ID and QR set: enough for a probe, which takes any answer. */
const RESPONDER = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>{m[2]|=0x80;s.send(m,r.port,r.address)});s.bind(53,process.argv[1]||'0.0.0.0')`;

function spawnIn(ns, cmd, args) {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop();
    lines.push(...parts);
  });
  return { child, lines };
}

async function stop(p) {
  if (p.child.exitCode !== null) return;
  const done = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(t);
}

async function waitFor(lines, text, from, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = lines.slice(from).find((l) => l.includes(text));
    if (hit) return JSON.parse(hit);
    await sleep(5);
  }
  return null;
}

async function switchTimes(runs) {
  const prefix = `ebench-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'edgedns-bench-mwan-'));
  const probe = { interval: 500, timeout: 300, downAfter: 2 };
  const probes = `[{ type: dns, target: 10.250.0.53, interval: ${probe.interval}ms, timeout: ${probe.timeout}ms }]`;
  writeFileSync(join(dir, 'edgedns.yaml'), `
listen: [{ address: 127.0.0.1, port: 5353 }]
upstreams: [udp://10.250.0.53:53]
uplinks:
  - { name: wan-a, interface: wan1, gateway: 10.201.0.1, priority: 100, probes: ${probes}, down-after: ${probe.downAfter}, up-after: 1, hold-down: 1s }
  - { name: wan-b, interface: wan2, gateway: 10.202.0.1, priority: 50, probes: ${probes}, down-after: ${probe.downAfter}, up-after: 1, hold-down: 1s }
multi-wan: { mode: failover, apply-routes: true }
admin: {}
log: { level: info }
`);
  execFileSync('sh', [LAB, 'up', prefix]);
  const procs = [];
  try {
    for (const n of [1, 2]) procs.push(spawnIn(`${prefix}-isp${n}`, process.execPath, ['-e', RESPONDER, '10.250.0.53']));
    const edge = spawnIn(`${prefix}-gw`, process.execPath, [BIN, 'serve', '-c', join(dir, 'edgedns.yaml')]);
    procs.push(edge);
    if (!await waitFor(edge.lines, 'edgedns started', 0, 10_000)) throw new Error('edgedns did not start in the lab');
    await sleep(1500);
    const out = { linkDown: [], blackhole: [], probe };
    for (let r = 0; r < runs; r++) {
      for (const kind of ['linkDown', 'blackhole']) {
        const from = edge.lines.length;
        const t0 = Date.now();
        if (kind === 'linkDown') ipn(`${prefix}-isp1`, 'link', 'set', 'isp1-lan', 'down');
        else ipn(`${prefix}-isp1`, 'route', 'add', 'blackhole', '10.201.0.2/32');
        const sel = await waitFor(edge.lines, '"uplink selection', from, 5000);
        out[kind].push(sel ? sel.time - t0 : NaN);
        if (kind === 'linkDown') {
          ipn(`${prefix}-isp1`, 'link', 'set', 'isp1-lan', 'up');
          ipn(`${prefix}-isp1`, 'route', 'replace', '10.203.0.0/24', 'via', '10.201.0.2');
        } else ipn(`${prefix}-isp1`, 'route', 'del', 'blackhole', '10.201.0.2/32');
        if (!await waitFor(edge.lines, '"active":["wan-a"]', from + 1, 8000)) throw new Error('wan-a did not come back');
        await sleep(300);
      }
      console.log(`uplinks run ${r + 1}/${runs}: link down → switch ${out.linkDown.at(-1)} ms, blackhole → switch ${out.blackhole.at(-1)} ms`);
    }
    return out;
  } finally {
    for (const p of procs) await stop(p);
    execFileSync('sh', [LAB, 'down', prefix]);
  }
}

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime, stime, cutime, cstime: fields 14–17 of stat, 12–15 after the ") " split
  return { self: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
}

async function probeCost(seconds) {
  const near = `ebench-${process.pid}-near`;
  const far = `ebench-${process.pid}-far`;
  const dir = mkdtempSync(join(tmpdir(), 'edgedns-bench-probes-'));
  const procs = [];
  try {
    for (const ns of [near, far]) {
      execFileSync('ip', ['netns', 'add', ns]);
      ipn(ns, 'link', 'set', 'lo', 'up');
    }
    const uplinks = [];
    for (let i = 0; i < 10; i++) {
      ipn(near, 'link', 'add', `up${i}`, 'type', 'veth', 'peer', 'name', `far${i}`, 'netns', far);
      ipn(near, 'addr', 'add', `10.210.${i}.2/24`, 'dev', `up${i}`);
      ipn(far, 'addr', 'add', `10.210.${i}.1/24`, 'dev', `far${i}`);
      ipn(near, 'link', 'set', `up${i}`, 'up');
      ipn(far, 'link', 'set', `far${i}`, 'up');
      uplinks.push(`  - { name: u${i}, interface: up${i}, source: 10.210.${i}.2, priority: ${100 - i}, probes: [{ type: dns, target: 10.210.${i}.1, interval: 1s }, { type: icmp, target: 10.210.${i}.1, interval: 1s }] }`);
    }
    procs.push(spawnIn(far, process.execPath, ['-e', RESPONDER]));
    writeFileSync(join(dir, 'edgedns.yaml'), `listen: [{ address: 127.0.0.1, port: 5353 }]\nupstreams: [udp://10.210.0.1:53]\nuplinks:\n${uplinks.join('\n')}\nadmin: {}\nlog: { level: warn }\n`);
    const edge = spawnIn(near, 'taskset', ['-c', '1', process.execPath, BIN, 'serve', '-c', join(dir, 'edgedns.yaml')]);
    procs.push(edge);
    await sleep(3000); // start-up and the first rounds
    const pid = Number(execFileSync('pgrep', ['-f', `serve -c ${join(dir, 'edgedns.yaml')}`], { encoding: 'utf8' }).trim().split('\n')[0]);
    const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
    const a = cpuTicks(pid);
    const t0 = Date.now();
    await sleep(seconds * 1000);
    const b = cpuTicks(pid);
    const wall = (Date.now() - t0) / 1000;
    return {
      probesPerSecond: 20,
      selfPct: ((b.self - a.self) / hz / wall) * 100,
      childrenPct: ((b.children - a.children) / hz / wall) * 100,
      rssMb: Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024,
    };
  } finally {
    for (const p of procs) await stop(p);
    for (const ns of [near, far]) { try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* gone */ } }
  }
}

export async function uplinksSuite(runs = 5) {
  const times = await switchTimes(runs);
  const cost = await probeCost(20);
  console.log(`probe cost: edgedns ${cost.selfPct.toFixed(1)}% CPU, ping children ${cost.childrenPct.toFixed(1)}%`);
  return { ...times, linkDownMedian: median(times.linkDown), blackholeMedian: median(times.blackhole), cost };
}
