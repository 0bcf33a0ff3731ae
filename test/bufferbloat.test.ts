/**
 * Bufferbloat for real, in network namespaces this test makes: a client uploads through the
 * gateway (edgedns) and a "modem" — a tbf bottleneck of 100 Mbit/s with a deep (400 ms) buffer —
 * to an ISP namespace, with CUBIC (set per route: this kernel defaults to BBR, which hides
 * bloat), while it pings the ISP every 50 ms.
 *
 *   client [c0 10.230.0.2] — [lan0 10.230.0.1] gw [wan0 10.231.0.2] — [m0 10.231.0.1] modem [m1 10.232.0.1] — [i0 10.232.0.2] isp
 *
 * Without smart queueing the queue sits in the modem and the ping p99 is hundreds of ms. With
 * edgedns shaping the gateway's egress to 90% of the bottleneck, the queue moves to the gateway,
 * where it is kept short (this kernel has no fq_codel or cake: htb + a ~5 ms byte FIFO), so the
 * p99 stays under 30 ms and throughput at 80% or more. With autorate from a rate the config does
 * not know, the same holds once it has converged. BLOAT_DEBUG=1 prints autorate's every step.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { adminGet } from './helpers/admin-socket.js';
import { execIn, Netns } from './helpers/netns.js';
import { missingOrNotRoot } from './helpers/system.js';

const skip = missingOrNotRoot('ip', 'tc', 'ping');
const BULK = fileURLToPath(new URL('./fixtures/tcp-bulk.mjs', import.meta.url));
const BOTTLENECK_MBIT = 100;
const SECONDS = 12;

const run = async (netns: string, args: string[], timeoutMs = 30_000) => (await execIn(args, netns, timeoutMs)).stdout;

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)];
}

interface Load {
  /** ping RTTs (ms) from `skipS` on; lost pings count as 1000 ms */
  rtts: number[];
  /** Mbit/s the sink received from `skipS` on */
  mbit: number;
}

describe.skipIf(skip)('bufferbloat through a deep-buffered modem', () => {
  const ns: Record<'client' | 'gw' | 'modem' | 'isp', Netns> = {} as never;
  let sink: ChildProcess;
  let sinkLines: Array<{ t: number; bytes: number }> = [];
  let edge: EdgednsProcess | null = null;
  let dir: string;

  beforeAll(async () => {
    for (const n of ['client', 'gw', 'modem', 'isp'] as const) ns[n] = new Netns();
    const link = (a: Netns, ai: string, b: Netns, bi: string) => a.ip('link', 'add', ai, 'type', 'veth', 'peer', 'name', bi, 'netns', b.name);
    link(ns.client, 'c0', ns.gw, 'lan0');
    link(ns.gw, 'wan0', ns.modem, 'm0');
    link(ns.modem, 'm1', ns.isp, 'i0');
    const addr = (n: Netns, dev: string, a: string) => { n.ip('address', 'add', a, 'dev', dev); n.ip('link', 'set', dev, 'up'); };
    addr(ns.client, 'c0', '10.230.0.2/24');
    addr(ns.gw, 'lan0', '10.230.0.1/24');
    addr(ns.gw, 'wan0', '10.231.0.2/24');
    addr(ns.modem, 'm0', '10.231.0.1/24');
    addr(ns.modem, 'm1', '10.232.0.1/24');
    addr(ns.isp, 'i0', '10.232.0.2/24');
    ns.client.ip('route', 'add', 'default', 'via', '10.230.0.1', 'congctl', 'cubic');
    ns.gw.ip('route', 'add', 'default', 'via', '10.231.0.1');
    ns.modem.ip('route', 'add', '10.230.0.0/24', 'via', '10.231.0.2');
    ns.isp.ip('route', 'add', 'default', 'via', '10.232.0.1');
    for (const n of [ns.gw, ns.modem]) await run(n.name, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // the modem: 100 Mbit/s out, 400 ms of buffer
    ns.modem.ip('link', 'set', 'm1', 'txqueuelen', '1000');
    await run(ns.modem.name, ['tc', 'qdisc', 'add', 'dev', 'm1', 'root', 'tbf', 'rate', `${BOTTLENECK_MBIT}mbit`, 'burst', '128kb', 'latency', '400ms']);
    sink = spawn('ip', ['netns', 'exec', ns.isp.name, process.execPath, BULK, 'sink', '10.232.0.2', '5001'], { stdio: ['ignore', 'pipe', 'inherit'] });
    sink.stdout!.setEncoding('utf8').on('data', (d: string) => {
      for (const l of d.split('\n')) if (l.startsWith('{')) sinkLines.push(JSON.parse(l) as { t: number; bytes: number });
    });
    await new Promise((r) => sink.stdout!.once('data', r));
    dir = mkdtempSync(join(tmpdir(), 'edgedns-bloat-'));
  });

  afterAll(async () => {
    await edge?.stop();
    sink?.kill();
    for (const n of Object.values(ns)) n.remove();
  });

  /** Upload for `seconds` while pinging every 50 ms; measure from `skipS` on. */
  async function load(skipS: number, seconds = SECONDS): Promise<Load> {
    sinkLines = [];
    const sender = run(ns.client.name, [process.execPath, BULK, 'send', '10.232.0.2', '5001', String(seconds)], (seconds + 10) * 1000);
    await new Promise((r) => setTimeout(r, skipS * 1000));
    const count = Math.floor(((seconds - skipS - 1) * 1000) / 50);
    const ping = await run(ns.client.name, ['ping', '-n', '-i', '0.05', '-c', String(count), '-W', '1', '10.232.0.2'], (seconds + 10) * 1000);
    await sender;
    const rtts = [...ping.matchAll(/icmp_seq=\d+ ttl=\d+ time=([\d.]+) ms/g)].map((m) => Number(m[1]));
    while (rtts.length < count) rtts.push(1000);
    const window = sinkLines.slice(skipS, seconds - 1); // whole seconds inside the measured window
    const mbit = (window.reduce((n, l) => n + l.bytes, 0) * 8) / window.length / 1e6;
    return { rtts, mbit };
  }

  const config = (queueing: string) => `
listen: [{ address: 127.0.0.1, port: 5353 }]
upstreams: [udp://127.0.0.1:1]
uplinks:
  - name: wan
    interface: wan0
    gateway: 10.231.0.1
    probes: [{ type: icmp, target: 10.232.0.2, interval: 100ms, timeout: 100ms }]
    smart-queueing: ${queueing}
admin: { socket: ${dir}/admin.sock }
log: { level: ${process.env.BLOAT_DEBUG ? 'debug' : 'info'} }
`;

  it('without smart queueing, the modem\'s buffer fills: ping p99 in the hundreds of ms', async () => {
    const r = await load(3);
    console.log(`bufferbloat, unshaped: ping p99 ${p99(r.rtts).toFixed(1)} ms, ${r.mbit.toFixed(1)} Mbit/s`);
    expect(p99(r.rtts)).toBeGreaterThan(100);
  }, 40_000);

  it('shaped by edgedns at 90% of the bottleneck: ping p99 under 30 ms, throughput at least 80%', async () => {
    // downloads (here only ACKs and ping replies) are shaped too: through ifb4wan0
    edge = await EdgednsProcess.start(config(`{ bandwidth-up: ${BOTTLENECK_MBIT * 0.9}mbit, bandwidth-down: 500mbit }`), { netns: ns.gw.name, configDir: dir });
    await edge.waitForLog('smart queueing applied', 10_000);
    const st = (await adminGet(`${dir}/admin.sock`, '/queueing')).uplinks[0];
    expect(st).toMatchObject({ name: 'wan', interface: 'wan0', qdisc: 'htb+bfifo', rate: { up: 90_000_000, down: 500_000_000 } });
    expect(await run(ns.gw.name, ['tc', 'filter', 'show', 'dev', 'wan0', 'ingress'])).toContain('Redirect to device ifb4wan0');
    expect(await run(ns.gw.name, ['tc', 'qdisc', 'show', 'dev', 'ifb4wan0'])).toContain('qdisc htb ed: root');
    expect(st.reason).toContain('the kernel has no cake or fq_codel');
    const r = await load(3);
    console.log(`bufferbloat, shaped at 90 Mbit/s: ping p99 ${p99(r.rtts).toFixed(1)} ms, ${r.mbit.toFixed(1)} Mbit/s`);
    expect(p99(r.rtts)).toBeLessThan(30);
    expect(r.mbit).toBeGreaterThanOrEqual(BOTTLENECK_MBIT * 0.8);
    const after = (await adminGet(`${dir}/admin.sock`, '/queueing')).uplinks[0];
    expect(after.drops).toBeGreaterThan(0); // the short FIFO is what bounds the delay
    await edge.stop();
    edge = null;
    expect(await run(ns.gw.name, ['tc', '-j', 'qdisc', 'show', 'dev', 'wan0'])).not.toMatch(/"htb"|"ingress"/); // removed on stop
    expect(await run(ns.gw.name, ['ip', 'link', 'show', 'ifb4wan0'])).toBe('');
  }, 60_000);

  it('with autorate from a rate the config does not know: the same bounds once converged', async () => {
    edge = await EdgednsProcess.start(config('{ autorate: { min: 20mbit, base: 150mbit, max: 200mbit }, ingress: false }'), { netns: ns.gw.name, configDir: dir });
    await edge.waitForLog('smart queueing applied', 10_000);
    const r = await load(6, 20); // converged within the first 6 s; measured over the next 13
    const st = (await adminGet(`${dir}/admin.sock`, '/queueing')).uplinks[0];
    if (process.env.BLOAT_DEBUG) console.log(edge.logs.filter((l) => l.includes('"autorate"')).map((l) => { const j = JSON.parse(l); return `${j.time % 100000} ${j.up} ${j.why}`; }).join('\n'));
    console.log(`bufferbloat, autorate: ping p99 ${p99(r.rtts).toFixed(1)} ms, ${r.mbit.toFixed(1)} Mbit/s, rate now ${(st.rate.up / 1e6).toFixed(1)} Mbit/s`);
    expect(st.autorate.lastChange).not.toBeNull();
    expect(st.rate.up).toBeLessThan(150_000_000);
    expect(p99(r.rtts)).toBeLessThan(30);
    expect(r.mbit).toBeGreaterThanOrEqual(BOTTLENECK_MBIT * 0.8);
  }, 70_000);
});
