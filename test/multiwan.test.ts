/**
 * Multi-WAN for real, in network namespaces this test makes (recipe §6): edgedns in the gateway
 * with two uplinks, real Unbound at the ISPs' shared service address answering which ISP it is,
 * a LAN client routed through the gateway. Links go down, go silent (blackhole), come back and
 * flap; answers must follow the healthy uplink, recovery must wait for hold-down, and the policy
 * routing edgedns installs must match its dry-run and go away on stop.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, EdgednsProcess } from './helpers/edgedns-process.js';
import { MultiWanLab, SERVICE } from './helpers/multiwan-lab.js';
import { DnsFixture } from './helpers/dns-fixture.js';
import { dig } from './helpers/dig.js';
import { freePort } from './helpers/ports.js';
import { adminGet, watchEvents } from './helpers/admin-socket.js';
import { missingOrNotRoot } from './helpers/system.js';

const skip = missingOrNotRoot('ip', 'dig', 'unbound', 'ping');

const HOLD_DOWN_MS = 3000;
const INTERVAL_MS = 500;
const DOWN_AFTER = 2;
const TIMEOUT_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => execFile(cmd, args, { timeout: 15_000 }, (err, stdout) => resolve({ code: err ? 1 : 0, stdout })));
}

describe.skipIf(skip)('multi-WAN in network namespaces', () => {
  let lab: MultiWanLab;
  let edge: EdgednsProcess;
  let socket: string;
  const ask = () => lab.whoami(lab.gw, '127.0.0.1', 5353);

  /** Ask every 50 ms until the answer is `want`; the ms it took, or -1. */
  async function until(want: string, timeoutMs: number, from = Date.now()): Promise<number> {
    while (Date.now() - from < timeoutMs) {
      if ((await ask()) === want) return Date.now() - from;
      await sleep(50);
    }
    return -1;
  }

  /**
   * What the LAN client gets, once the routes have caught up: edgedns's own sockets follow a new
   * selection at once, the routes a moment later (an `ip` batch after the selection event).
   */
  async function lanSees(want: string, timeoutMs = 2000): Promise<string | null> {
    const from = Date.now();
    let got: string | null = null;
    while (Date.now() - from < timeoutMs && (got = await lab.whoami(lab.lan, SERVICE)) !== want) await sleep(50);
    return got;
  }

  const selections = () => edge.logs.filter((l) => l.includes('"uplink selection'))
    .map((l) => JSON.parse(l) as { time: number; active: string[] });

  beforeAll(async () => {
    lab = new MultiWanLab();
    await lab.startIsps();
    // Routes and rules of the operator's own, which edgedns must leave alone.
    lab.gw.ip('route', 'add', 'unreachable', 'default', 'table', '150');
    lab.gw.ip('rule', 'add', 'from', '10.203.0.99', 'lookup', '150', 'pref', '20000');
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-mwan-'));
    socket = join(dir, 'admin.sock');
    // wan-a's source comes from its interface, wan-b's from the file
    const uplink = (name: string, iface: string, n: number, priority: number, source: string) => `  - { name: ${name}, interface: ${iface}, ${source ? `${source}, ` : ''}gateway: 10.20${n}.0.1, table: 10${n}, priority: ${priority}, probes: ${probes}, down-after: ${DOWN_AFTER}, up-after: 2, hold-down: ${HOLD_DOWN_MS}ms }`;
    const probes = `[{ type: dns, target: ${SERVICE}, interval: ${INTERVAL_MS}ms, timeout: ${TIMEOUT_MS}ms }, { type: icmp, target: ${SERVICE}, interval: ${INTERVAL_MS}ms, timeout: ${TIMEOUT_MS}ms }]`;
    edge = await EdgednsProcess.start(`
listen: [{ address: 127.0.0.1, port: 5353 }]
upstreams: [udp://${SERVICE}:53]
upstream-timeout: 400ms
forward: [{ domain: whoami.test, upstreams: [udp://${SERVICE}:53] }]   # .test is answered locally otherwise (RFC 6761)
uplinks:
${uplink('wan-a', 'wan1', 1, 100, '')}
${uplink('wan-b', 'wan2', 2, 50, 'source: 10.202.0.2')}
multi-wan: { mode: failover, apply-routes: true }
admin: { socket: ${socket} }
`, { netns: lab.gw.name, configDir: dir });
    await edge.waitForLog('policy routing applied', 5000);
  }, 60_000);

  afterAll(async () => {
    await edge?.stop();
    await lab?.remove();
  });

  it('answers through the preferred uplink, and says so in /uplinks and /upstreams', async () => {
    expect(await ask()).toBe('isp-a');
    const status = await adminGet(socket, '/uplinks');
    expect(status.mode).toBe('failover');
    expect(status.selection).toEqual({ mode: 'failover', active: ['wan-a'], healthy: true });
    expect(status.routing).toMatchObject({ enabled: true, reason: null });
    const a = status.uplinks.find((u: { name: string }) => u.name === 'wan-a');
    expect(a).toMatchObject({ state: 'up', selected: true, source: '10.201.0.2', carrier: true, flaps: 0 });
    expect(a.probes).toHaveLength(2);
    expect(a.rttMs).toBeGreaterThan(0);
    expect((await adminGet(socket, '/upstreams')).upstreams[0]).toMatchObject({ uplink: 'wan-a' });
    const shown = await run(process.execPath, [BIN, 'show', 'uplinks', '--admin', `unix:${socket}`]);
    expect(shown.stdout).toMatch(/wan-a\s+wan1\s+10\.201\.0\.2\s+up/);
  });

  it('installs the rules and routes its dry-run prints, and a LAN client follows the selection', async () => {
    const dry = await run('ip', ['netns', 'exec', lab.gw.name, process.execPath, BIN, 'uplinks', 'routes', '-c', edge.configPath, '--dry-run']);
    expect(dry.code).toBe(0);
    const lines = dry.stdout.split('\n').filter((l) => l.startsWith('ip '));
    const wantRules = lines.filter((l) => l.startsWith('ip rule add')).map((l) => {
      const from = /from (\S+)/.exec(l)?.[1] ?? 'all';
      return `${/pref (\d+)/.exec(l)![1]} ${from} ${/lookup (\S+)/.exec(l)![1]}`;
    }).sort();
    const haveRules = (JSON.parse(lab.gw.ip('-j', 'rule', 'show')) as Array<{ priority: number; src: string; table: string; protocol?: string }>)
      .filter((r) => r.protocol === '237').map((r) => `${r.priority} ${r.src} ${r.table}`).sort();
    expect(haveRules).toEqual(wantRules);
    const wantRoutes = lines.filter((l) => l.startsWith('ip route replace')).map((l) =>
      `${/table (\d+)/.exec(l)![1]} ${l.includes('unreachable') ? 'unreachable' : 'unicast'} ${/metric (\d+)/.exec(l)?.[1] ?? 0} ${/via (\S+)/.exec(l)?.[1] ?? ''} ${/dev (\S+)/.exec(l)?.[1] ?? ''}`).sort();
    const haveRoutes = (JSON.parse(lab.gw.ip('-j', 'route', 'show', 'table', 'all', 'proto', '237')) as Array<{ table: string; type?: string; metric?: number; gateway?: string; dev?: string }>)
      .map((r) => `${r.table} ${r.type ?? 'unicast'} ${r.metric ?? 0} ${r.gateway ?? ''} ${r.dev ?? ''}`).sort();
    expect(haveRoutes).toEqual(wantRoutes);
    expect(await lab.whoami(lab.lan, SERVICE)).toBe('isp-a');
  });

  it('link down: answers move to the other ISP within 1.5 s, and stay there until hold-down has passed', async () => {
    const feed = await watchEvents(socket);
    const t0 = Date.now();
    lab.ispLink(1, false);
    const took = await until('isp-b', 1500, t0);
    expect(took, 'switch to isp-b after link down').toBeGreaterThanOrEqual(0);
    expect(await lanSees('isp-b')).toBe('isp-b');
    await edge.waitForLog('carrier lost on wan1');
    // The live feed (GET /events) carried the transition, with its reason, within 2 s.
    const down = await feed.waitFor((e) => e.event === 'uplink' && e.data.uplink === 'wan-a' && e.data.to === 'down', 2000 - (Date.now() - t0));
    expect(down?.data.reason).toMatch(/carrier lost/);
    feed.close();

    const up = Date.now();
    lab.ispLink(1, true);
    await sleep(HOLD_DOWN_MS - 800);
    expect(await ask(), 'still on isp-b inside hold-down').toBe('isp-b');
    const back = await until('isp-a', 5000, up);
    expect(back).toBeGreaterThanOrEqual(HOLD_DOWN_MS);
    expect(await lanSees('isp-a')).toBe('isp-a');
  });

  it('silent blackhole (carrier up): switched within interval × down-after + timeout, and back after hold-down', async () => {
    const t0 = Date.now();
    lab.isp1.ip('route', 'add', 'blackhole', '10.201.0.2/32');
    const took = await until('isp-b', INTERVAL_MS * DOWN_AFTER + TIMEOUT_MS + 700, t0);
    expect(took, `switch to isp-b after a silent blackhole:\n${edge.logs.filter((l) => l.includes('uplink')).slice(-8).join('\n')}`).toBeGreaterThanOrEqual(0);
    const status = await adminGet(socket, '/uplinks');
    const a = status.uplinks.find((u: { name: string }) => u.name === 'wan-a');
    expect(a.state).toBe('down');
    expect(a.reason).toMatch(/^2 consecutive failed rounds: .*(dns|icmp) to 10\.250\.0\.53/);
    expect(a.carrier).toBe(true);
    expect(status.events[0]).toMatchObject({ uplink: 'wan-a', to: 'down' });

    lab.isp1.ip('route', 'del', 'blackhole', '10.201.0.2/32');
    expect(await until('isp-a', HOLD_DOWN_MS + 3000)).toBeGreaterThanOrEqual(0);
  });

  it('a flapping link does not flap the selection faster than hold-down', async () => {
    const before = selections().length;
    const start = Date.now();
    for (let i = 0; i < 14; i++) { // 4.2 s of flapping, 300 ms per state
      lab.ispLink(1, i % 2 !== 0);
      await sleep(300);
    }
    lab.ispLink(1, true);
    expect(await until('isp-a', HOLD_DOWN_MS + 4000)).toBeGreaterThanOrEqual(0);
    const changes = selections().slice(before).filter((s) => s.time >= start);
    expect(changes.map((c) => c.active[0])).toEqual(['wan-b', 'wan-a']);
    expect(changes[1].time - changes[0].time).toBeGreaterThanOrEqual(HOLD_DOWN_MS);
    const a = (await adminGet(socket, '/uplinks')).uplinks.find((u: { name: string }) => u.name === 'wan-a');
    expect(a.flaps).toBeGreaterThanOrEqual(3); // link down, blackhole, flapping
  });

  it('on stop removes the rules and routes it added, and only those', async () => {
    expect(await edge.stop()).toBe(0);
    const rules = JSON.parse(lab.gw.ip('-j', 'rule', 'show')) as Array<{ priority: number; protocol?: string }>;
    expect(rules.filter((r) => r.protocol === '237')).toEqual([]);
    expect(rules.some((r) => r.priority === 20000)).toBe(true);
    expect(lab.gw.ip('route', 'show', 'table', 'all', 'proto', '237').trim()).toBe('');
    expect(lab.gw.ip('route', 'show', 'table', '150')).toContain('unreachable default');
  });
});

describe.skipIf(missingOrNotRoot('setpriv', 'dig'))('multi-WAN without CAP_NET_ADMIN', () => {
  let upstream: DnsFixture;
  let edge: EdgednsProcess;

  afterAll(async () => {
    await edge?.stop();
    await upstream?.close();
  });

  it('turns policy routing off with one clear line; probes and source binding still work', async () => {
    upstream = await DnsFixture.start({ answers: { 'a.example': ['192.0.2.1', 60] } });
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-mwan-nobody-'));
    chmodSync(dir, 0o755);
    chownSync(dir, 65534, 65534); // the unprivileged server makes its admin socket here
    const socket = join(dir, 'admin.sock');
    edge = await EdgednsProcess.start(`
listen: [{ address: 127.0.0.1, port: ${port} }]
upstreams: [${upstream.url}]
uplinks:
  - name: loop
    interface: lo
    source: 127.0.0.1
    probes: [{ type: dns, target: "127.0.0.1:${upstream.port}", interval: 200ms, timeout: 150ms }]
multi-wan: { apply-routes: true }
admin: { socket: ${socket} }
`, { wrap: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], configDir: dir });
    const line = await edge.waitForLog('policy routing off');
    expect(line).toContain('no CAP_NET_ADMIN');
    expect(edge.logs.filter((l) => l.includes('policy routing off'))).toHaveLength(1);
    expect((await dig(['@127.0.0.1', '-p', String(port), 'a.example'])).answer[0].data).toBe('192.0.2.1');
    await sleep(500);
    const status = await adminGet(socket, '/uplinks');
    expect(status.routing.enabled).toBe(false);
    expect(status.uplinks[0]).toMatchObject({ name: 'loop', state: 'up', selected: true });
    expect(status.uplinks[0].probes[0].samples).toBeGreaterThanOrEqual(2);
    expect((await adminGet(socket, '/upstreams')).upstreams[0]).toMatchObject({ uplink: 'loop', queries: 1 });
  });
});
