/**
 * The flows a gateway forwards, for real, in network namespaces this test makes (the multi-WAN
 * lab: a gateway with two uplinks to two ISPs, a LAN client): NAT per uplink, sessions per
 * uplink from conntrack, the failed uplink's flows flushed on failover (and kept stuck with
 * `on-failover: keep`), recovery moving new flows back while established ones stay, and
 * `load-balance` 3:1 spreading flows (not hosts) through the kernel's L4 multipath hash. The
 * ISPs have no route back to the LAN: only a translated flow is answered. Their echo answers
 * "ISP SOURCE-IT-SAW" over UDP and TCP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, EdgednsProcess } from './helpers/edgedns-process.js';
import { MultiWanLab, SERVICE } from './helpers/multiwan-lab.js';
import { adminGet, adminText } from './helpers/admin-socket.js';
import { execIn } from './helpers/netns.js';
import { stopChild } from './helpers/stop-child.js';
import { ECHO, ECHO_PORT, ECHO_TARGET, LanFlow, spreadFlows } from './helpers/lan-flow.js';
import { missingOrNotRoot } from './helpers/system.js';
import { until } from './helpers/until.js';

const skip = missingOrNotRoot('ip', 'dig', 'unbound', 'nft', 'conntrack');
const TARGET = ECHO_TARGET;
const PORT = ECHO_PORT;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip)('gateway flows: NAT, sessions, conntrack on failover, load-balance per flow', () => {
  let lab: MultiWanLab;
  let edge: EdgednsProcess;
  let socket: string;
  const echoes: ChildProcess[] = [];
  const flows: LanFlow[] = [];
  const flow = (kind: 'flow' | 'tcp') => { const f = new LanFlow(lab.lan.name, kind); flows.push(f); return f; };
  const spread = (n: number) => spreadFlows(lab.lan.name, n);
  const uplink = async (name: string) => (await adminGet(socket, '/uplinks')).uplinks.find((u: { name: string }) => u.name === name);
  const selected = async () => (await adminGet(socket, '/uplinks')).selection?.active as string[];
  const blackhole = (on: boolean) => lab.isp1.ip('route', on ? 'add' : 'del', 'blackhole', '10.201.0.2/32');

  const config = (mw: string, weightA = 1) => `
listen: [{ address: 127.0.0.1, port: 5353 }]
upstreams: [udp://${SERVICE}:53]
uplinks:
  - { name: wan-a, interface: wan1, gateway: 10.201.0.1, priority: 100, weight: ${weightA}, probes: [{ type: dns, target: ${SERVICE}, interval: 300ms, timeout: 200ms }], down-after: 2, up-after: 2, hold-down: 2s }
  - { name: wan-b, interface: wan2, gateway: 10.202.0.1, priority: 50, probes: [{ type: dns, target: ${SERVICE}, interval: 300ms, timeout: 200ms }], down-after: 2, up-after: 2, hold-down: 2s }
multi-wan: { apply-routes: true, nat: masquerade, ${mw} }
admin: { socket: ${socket} }
`;

  /** Reload to `yaml` and wait until both uplinks are up again (a changed multi-wan starts health afresh). */
  async function reloadTo(yaml: string, active: string[]): Promise<void> {
    edge.rewriteConfig(yaml);
    const r = await execIn([process.execPath, BIN, 'reload', '--admin', `unix:${socket}`], lab.gw.name);
    expect(r.code, r.stderr).toBe(0);
    await until('both uplinks up after the reload', async () => (await adminGet(socket, '/uplinks')).uplinks.map((u: { state: string }) => u.state),
      (s) => s.every((x: string) => x === 'up'), 8000);
    await until('the selection', selected, (s) => JSON.stringify(s) === JSON.stringify(active), 5000);
    // and its default route in place (the routes follow the selection event a moment later)
    await until('the default route', async () => lab.gw.ip('route', 'show', 'table', '100'), (r) => (active.length > 1 ? /nexthop/.test(r) : !/nexthop/.test(r)), 3000);
  }

  beforeAll(async () => {
    lab = new MultiWanLab();
    await lab.startIsps();
    for (const [ns, label] of [[lab.isp1, 'isp-a'], [lab.isp2, 'isp-b']] as const) {
      ns.ip('address', 'add', `${TARGET}/32`, 'dev', 'lo');
      ns.ip('route', 'del', '10.203.0.0/24'); // no way back to the LAN but NAT
      const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, ECHO, label, TARGET, PORT], { stdio: ['ignore', 'pipe', 'inherit'] });
      echoes.push(child);
      await new Promise((r) => child.stdout!.once('data', r));
    }
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-flows-'));
    socket = join(dir, 'admin.sock');
    edge = await EdgednsProcess.start(config('mode: failover, on-failover: flush'), { netns: lab.gw.name, configDir: dir });
    await edge.waitForLog('multi-wan NAT: masquerade per uplink', 8000);
    await until('wan-a selected', selected, (s) => s?.[0] === 'wan-a', 8000);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(flows.map((f) => f.stop()));
    await edge?.stop();
    await Promise.all(echoes.map((e) => stopChild(e)));
    await lab?.remove();
  });

  it('NAT: the LAN leaves by the selected uplink with its address; sessions per uplink from conntrack', async () => {
    expect(await spread(1)).toEqual({ none: 0, 'isp-a': 1 });
    const tcp = flow('tcp');
    await until('a TCP answer', async () => tcp.last(), (l) => l !== undefined, 3000);
    expect(tcp.last()).toMatchObject({ label: 'isp-a', source: '10.201.0.2' });
    const a = await until('wan-a sessions', () => uplink('wan-a'), (u) => u.sessions >= 1, 3000);
    expect(a).toMatchObject({ flushed: 0, lastFlush: null });
    expect((await uplink('wan-b')).sessions).toBe(0);
    const shown = await adminText(socket, '/uplinks');
    expect(JSON.parse(shown).flows).toMatchObject({ nat: 'masquerade', onFailover: 'flush', l4Hash: false, publishing: true, error: null });
    const text = await execIn([process.execPath, BIN, 'show', 'uplinks', '--admin', `unix:${socket}`], lab.gw.name);
    expect(text.stdout).toMatch(/flows\s+nat masquerade; on failover flush/);
    expect(text.stdout).toMatch(/sessions/);
    await tcp.stop();
  });

  it('failover: the failed uplink\'s flows are flushed and reconnect on the backup; the counts say so', async () => {
    const udp = flow('flow');
    const tcp = flow('tcp');
    await until('both flows answered by isp-a', async () => [udp.last()?.label, tcp.last()?.label], (l) => l[0] === 'isp-a' && l[1] === 'isp-a', 3000);
    const t0 = Date.now();
    blackhole(true); // silent: carrier stays up, wan-a's answers vanish
    await until('the UDP flow answered by isp-b', async () => udp.last(), (l) => l?.label === 'isp-b', 6000);
    expect(udp.last()!.source).toBe('10.202.0.2');
    const movedMs = Date.now() - t0;
    // the TCP flow's state lived at isp-a: on the backup its next segment is refused, and it ends at once rather than hanging
    await until('the TCP flow ended', async () => tcp.closed, (c) => c, 5000);
    const again = flow('tcp');
    await until('a new TCP flow answered by isp-b', async () => again.last(), (l) => l?.label === 'isp-b', 3000);
    const a = await uplink('wan-a');
    expect(a.lastFlush).toMatchObject({ reason: expect.stringMatching(/^uplink down/) });
    expect(a.flushed).toBeGreaterThanOrEqual(2); // the UDP flow and the TCP connection at least
    const metrics = await adminText(socket, '/metrics');
    expect(metrics).toMatch(/edgedns_uplink_flows_flushed_total\{uplink="wan-a"\} ([2-9]|\d\d+)/);
    expect(edge.logs.some((l) => l.includes('flows of the failed uplink flushed'))).toBe(true);
    console.log(`failover: the UDP flow answered by the backup ${movedMs} ms after the blackhole; ${a.flushed} flows flushed`);
    await udp.stop();
  });

  it('recovery: hold-down keeps new flows on the backup, then moves them back; an established flow stays', async () => {
    const established = flows.at(-1)!; // the TCP flow made on wan-b
    blackhole(false);
    const t0 = Date.now();
    expect((await spread(1))['isp-b']).toBe(1); // within hold-down (2 s): still the backup
    await until('wan-a selected again', selected, (s) => s?.[0] === 'wan-a', 8000);
    const backMs = Date.now() - t0;
    await until('new flows leave by wan-a', () => spread(1), (c) => c['isp-a'] === 1, 3000);
    const after = Date.now();
    await sleep(1000);
    expect(established.closed).toBe(false);
    const since = established.since(after);
    expect(since.length).toBeGreaterThan(2);
    expect(since.every((l) => l.label === 'isp-b' && l.source === '10.202.0.2')).toBe(true);
    expect(backMs).toBeGreaterThanOrEqual(1500); // not before hold-down (2 s, less the moment the probes needed)
    await established.stop();
  });

  it('on-failover: keep leaves the failed uplink\'s flows where they were: stuck, while new flows take the backup', async () => {
    await reloadTo(config('mode: failover, on-failover: keep'), ['wan-a']);
    const udp = flow('flow');
    await until('the UDP flow answered by isp-a', async () => udp.last(), (l) => l?.label === 'isp-a', 3000);
    blackhole(true);
    await until('wan-b selected', selected, (s) => s?.[0] === 'wan-b', 6000);
    await until('new flows on the backup', () => spread(1), (c) => c['isp-b'] === 1, 3000);
    const t = Date.now();
    await sleep(1500);
    expect(udp.since(t)).toEqual([]); // kept on wan-a: nothing comes back
    expect((await uplink('wan-a')).lastFlush).toBeNull();
    blackhole(false);
    await udp.stop();
  });

  it('load-balance 3:1: new flows split 75/25 (±10%) by the L4 hash, one flow never changes uplink, healthy flows survive a failure', async () => {
    await reloadTo(config('mode: load-balance, on-failover: flush', 3), ['wan-a', 'wan-b']);
    expect((await execIn(['cat', '/proc/sys/net/ipv4/fib_multipath_hash_policy'], lab.gw.name)).stdout.trim()).toBe('1');
    const counts = await spread(400);
    expect(counts.none, JSON.stringify(counts)).toBe(0);
    expect(counts['isp-a']).toBeGreaterThanOrEqual(260); // 300 ± 40
    expect(counts['isp-a']).toBeLessThanOrEqual(340);
    console.log(`load-balance 3:1 over 400 new flows: ${JSON.stringify(counts)}`);
    const one = flow('flow');
    await sleep(2000);
    expect(one.lines.length).toBeGreaterThan(10);
    expect(new Set(one.lines.map((l) => l.label)).size).toBe(1);
    await one.stop();
    // TCP connections until one of each uplink is open
    const tcps: LanFlow[] = [];
    for (let i = 0; i < 24 && !(tcps.some((f) => f.last()?.label === 'isp-a') && tcps.some((f) => f.last()?.label === 'isp-b')); i++) {
      const f = flow('tcp');
      tcps.push(f);
      await until('a TCP answer', async () => f.last(), (l) => l !== undefined, 3000);
    }
    const onB = tcps.find((f) => f.last()?.label === 'isp-b')!;
    const onA = tcps.find((f) => f.last()?.label === 'isp-a')!;
    expect(onA && onB).toBeTruthy();
    blackhole(true);
    await until('wan-a out of the selection', selected, (s) => JSON.stringify(s) === '["wan-b"]', 6000);
    await until('the flow on wan-a ended', async () => onA.closed, (c) => c, 5000);
    const t = Date.now();
    await sleep(1000);
    expect(onB.closed).toBe(false);
    expect(onB.since(t).length).toBeGreaterThan(2); // never touched
    expect((await uplink('wan-b')).flushed).toBe(0);
    blackhole(false);
  });

  it('on stop takes NAT and the flow marks out and puts the multipath hash back', async () => {
    await Promise.all(flows.map((f) => f.stop()));
    await edge.stop();
    const nft = await execIn(['nft', 'list', 'table', 'inet', 'edgedns'], lab.gw.name);
    expect(nft.code).not.toBe(0);
    expect((await execIn(['cat', '/proc/sys/net/ipv4/fib_multipath_hash_policy'], lab.gw.name)).stdout.trim()).toBe('0');
    expect(lab.gw.ip('rule', 'show')).not.toMatch(/fwmark 0xed0/);
  });
});
