/**
 * Multi-WAN policies for real, in network namespaces this test makes (recipe §6 and its
 * nftables mark notes): the multi-WAN lab, each ISP also running a UDP echo (test/fixtures/
 * isp-echo.mjs) on addresses reachable through both ISPs that answers with the ISP's name, and a
 * LAN client behind the gateway asking them (test/fixtures/udp-ask.mjs). edgedns in the gateway
 * answers the LAN's DNS and forwards `video.test` to the ISPs' Unbound.
 *
 *   10.250.0.54  video.test's address: only learned from edgedns's answer (domain policy → wan-b)
 *   10.250.0.55  anything else (the default selection: wan-a), or the kids' source policy (wan-b)
 *   10.250.0.56  the bank's destination policy (wan-b, fallback drop)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, EdgednsProcess } from './helpers/edgedns-process.js';
import { MultiWanLab, SERVICE } from './helpers/multiwan-lab.js';
import { dig } from './helpers/dig.js';
import { adminGet } from './helpers/admin-socket.js';
import { execIn } from './helpers/netns.js';
import { missingOrNotRoot } from './helpers/system.js';

const skip = missingOrNotRoot('ip', 'dig', 'unbound', 'ping', 'nft');
const ECHO = fileURLToPath(new URL('./fixtures/isp-echo.mjs', import.meta.url));
const ASK = fileURLToPath(new URL('./fixtures/udp-ask.mjs', import.meta.url));
const HOLD_DOWN_MS = 2000;
const TTL_S = 3;
const GRACE_S = 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe.skipIf(skip)('multi-WAN policies in network namespaces', () => {
  let lab: MultiWanLab;
  let edge: EdgednsProcess;
  let socket: string;
  const echoes: ChildProcess[] = [];
  /** Which ISP answers a UDP datagram from the LAN client to `address` */
  const via = async (address: string, from = '10.203.0.10', sport?: number) =>
    (await execIn([process.execPath, ASK, address, '7007', from, ...(sport ? [String(sport)] : [])], lab.lan.name)).stdout.trim();
  /** `via`, asked again until it gives `want` (rules and marks follow a move a moment after its log line). */
  const viaUntil = async (want: string, address: string, from?: string) => {
    let got = '';
    for (const end = Date.now() + 3000; Date.now() < end && (got = await via(address, from)) !== want;) await sleep(100);
    return got;
  };
  const nftSet = async () => (await execIn(['nft', 'list', 'set', 'inet', 'edgedns', 'video_v4'], lab.gw.name)).stdout;

  beforeAll(async () => {
    lab = new MultiWanLab();
    await lab.startIsps({ zones: ['video.test.'], data: [`video.test. ${TTL_S} IN A 10.250.0.54`] });
    for (const [n, ns, label] of [[1, lab.isp1, 'isp-a'], [2, lab.isp2, 'isp-b']] as const) {
      for (const a of ['10.250.0.54', '10.250.0.55', '10.250.0.56']) ns.ip('address', 'add', `${a}/32`, 'dev', 'lo');
      const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, ECHO, label, '7007'], { stdio: ['ignore', 'pipe', 'inherit'] });
      echoes.push(child);
      await new Promise((r) => child.stdout!.once('data', r));
      void n;
    }
    lab.lan.ip('address', 'add', '10.203.0.200/24', 'dev', 'host0');
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-policies-'));
    socket = join(dir, 'admin.sock');
    const probes = `[{ type: dns, target: ${SERVICE}, interval: 500ms, timeout: 300ms }]`;
    edge = await EdgednsProcess.start(`
listen: [{ address: 10.203.0.1, port: 53 }, { address: 127.0.0.1, port: 5353 }]
upstreams: [udp://${SERVICE}:53]
forward: [{ domain: video.test, upstreams: [udp://${SERVICE}:53] }]
uplinks:
  - { name: wan-a, interface: wan1, gateway: 10.201.0.1, table: 101, priority: 100, probes: ${probes}, down-after: 2, up-after: 2, hold-down: ${HOLD_DOWN_MS}ms }
  - { name: wan-b, interface: wan2, source: 10.202.0.2, gateway: 10.202.0.1, table: 102, priority: 50, probes: ${probes}, down-after: 2, up-after: 2, hold-down: ${HOLD_DOWN_MS}ms }
multi-wan:
  mode: failover
  apply-routes: true
  policies:
    - name: video
      match: { domains: [video.test] }
      uplinks: [wan-b, wan-a]
      grace: ${GRACE_S}s
    - name: kids
      match: { source: [10.203.0.128/25] }
      uplinks: [wan-b]
      fallback: default
    - name: bank
      match: { destination: [10.250.0.56/32] }
      uplinks: [wan-b]
      fallback: drop
admin: { socket: ${socket} }
`, { netns: lab.gw.name, configDir: dir });
    for (let i = 0; i < 100 && (await adminGet(socket, '/uplinks')).uplinks.some((u: { state: string }) => u.state !== 'up'); i++) await sleep(100);
  }, 60_000);

  afterAll(async () => {
    await edge?.stop();
    for (const e of echoes) e.kill();
    await lab?.remove();
  });

  it('default traffic follows the selection; source and destination policies take their uplink', async () => {
    expect(await via('10.250.0.55')).toBe('isp-a');
    expect(await via('10.250.0.55', '10.203.0.200')).toBe('isp-b'); // kids
    expect(await via('10.250.0.56')).toBe('isp-b'); // bank
    expect(await via('10.250.0.54')).toBe('isp-a'); // video.test's address, not learned yet
  });

  it('a domain policy steers the address learned from edgedns\'s answer, from the first packet on', async () => {
    const a = await dig(['@10.203.0.1', 'video.test', 'A', '+time=2'], 5000, lab.lan.name);
    expect(a.answer).toEqual([expect.objectContaining({ type: 'A', data: '10.250.0.54' })]);
    // no wait: the address was in the set before the answer left
    expect(await via('10.250.0.54')).toBe('isp-b');
    expect(await nftSet()).toMatch(/10\.250\.0\.54 timeout \ds/);
    expect(await via('10.250.0.55')).toBe('isp-a'); // other traffic still on the default
    const status = await adminGet(socket, '/policies');
    expect(status.error).toBeNull();
    const p = status.policies;
    expect(p.map((x: { name: string; action: string; uplink: string }) => [x.name, x.action, x.uplink])).toEqual([['video', 'uplink', 'wan-b'], ['kids', 'uplink', 'wan-b'], ['bank', 'uplink', 'wan-b']]);
    expect(p[0].addresses).toEqual([expect.objectContaining({ address: '10.250.0.54' })]);
    expect(p[0].hits).toBeGreaterThanOrEqual(1);
    expect(p[1].hits).toBeGreaterThanOrEqual(1);
    const shown = await execIn([process.execPath, BIN, 'show', 'policies', '--admin', `unix:${socket}`], lab.gw.name);
    expect(shown.stdout).toMatch(/video\s+video\.test\s+wan-b > wan-a\s+wan-b/);
  });

  it('when the preferred uplink goes down, new flows move to the next one, the default, or are dropped', async () => {
    await dig(['@10.203.0.1', 'video.test', 'A', '+time=2'], 5000, lab.lan.name);
    const from = edge.logs.length;
    lab.ispLink(2, false);
    await edge.waitForLog('multi-wan policy moved', 5000, from);
    expect(await viaUntil('isp-a', '10.250.0.54')).toBe('isp-a'); // video: next in its list
    expect(await viaUntil('isp-a', '10.250.0.55', '10.203.0.200')).toBe('isp-a'); // kids: fallback default
    expect(await viaUntil('timeout', '10.250.0.56')).toBe('timeout'); // bank: fallback drop
    const p = (await adminGet(socket, '/policies')).policies;
    expect(p.map((x: { action: string; uplink: string | null; moves: number }) => [x.action, x.uplink, x.moves])).toEqual([['uplink', 'wan-a', 1], ['default', null, 1], ['drop', null, 1]]);
    expect(p[2].reason).toContain('fallback drop');

    // A flow that started on wan-a keeps it when the policy moves back; a new flow takes wan-b.
    await dig(['@10.203.0.1', 'video.test', 'A', '+time=2'], 5000, lab.lan.name);
    expect(await via('10.250.0.54', '10.203.0.10', 40123)).toBe('isp-a');
    const back = edge.logs.length;
    lab.ispLink(2, true);
    await edge.waitForLog('multi-wan policy moved', 10_000, back);
    await dig(['@10.203.0.1', 'video.test', 'A', '+time=2'], 5000, lab.lan.name);
    expect(await viaUntil('isp-b', '10.250.0.54')).toBe('isp-b'); // new flows: back on wan-b …
    expect(await via('10.250.0.54', '10.203.0.10', 40123)).toBe('isp-a'); // … the old one stays
    expect(await viaUntil('isp-b', '10.250.0.56')).toBe('isp-b');
  });

  it('learned addresses leave the set after TTL + grace', async () => {
    await dig(['@10.203.0.1', 'video.test', 'A', '+time=2'], 5000, lab.lan.name);
    expect(await nftSet()).toContain('10.250.0.54');
    await sleep((TTL_S + GRACE_S + 1) * 1000);
    expect(await nftSet()).not.toContain('10.250.0.54');
    expect((await adminGet(socket, '/policies')).policies[0].addresses).toEqual([]);
    expect(await via('10.250.0.54')).toBe('isp-a');
  });

  it('prints its ip and nft commands in a dry run, and removes only its own table and rules on stop', async () => {
    const dry = await execIn([process.execPath, BIN, 'uplinks', 'routes', '-c', edge.configPath, '--dry-run'], lab.gw.name);
    expect(dry.stdout).toContain('ip rule add fwmark 0xed02/0xffff lookup 102 pref 10001 protocol 237');
    expect(dry.stdout).toContain('ip rule add from 10.203.0.128/25 lookup 102 pref 10011 protocol 237');
    expect(dry.stdout).toContain('ip rule add to 10.250.0.56 lookup 102 pref 10012 protocol 237');
    expect(dry.stdout).toContain('add rule inet edgedns policies ct state new ip daddr @video_v4 counter name "video" meta mark set 0xed02 ct mark set 0xed02 return');
    const rules = lab.gw.ip('rule', 'show');
    expect(rules).toContain('from all fwmark 0xed02/0xffff lookup 102 proto 237');
    await edge.stop();
    expect(lab.gw.ip('rule', 'show')).not.toContain('proto 237');
    expect((await execIn(['nft', 'list', 'tables'], lab.gw.name)).stdout).not.toContain('edgedns');
  });
});
