/**
 * The uplink monitor against a recording host port: with routing on, what it plans, reconciles
 * against what the host lists, and runs — in one `ip -batch` per family — and what it removes
 * on stop: only what carries protocol 237. (The carrier watch and probes are left out: no
 * probes are configured, and the interfaces do not exist here.)
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseEdgeConfig as parseConfig } from '../app/sections.js';
import { RecordingHost } from '../host/recording-host.js';
import { UplinkMonitor } from './uplink-monitor.js';
import { sectionOf } from '../config/section.js';
import { UPLINKS } from './uplinks-section.js';

const log = pino({ level: 'silent' });
const raw = parseConfig(`
upstreams: [udp://127.0.0.1:53]
uplinks:
  - { name: wan-a, interface: edtest-wan1, gateway: 10.201.0.1, source: 10.201.0.2, table: 101 }
  - { name: wan-b, interface: edtest-wan2, gateway: 10.202.0.1, source: 10.202.0.2, table: 102 }
multi-wan: { apply-routes: true }
`, 'u.yaml');

/** CAP_NET_ADMIN in CapEff, so routing is on; `installed`: what `ip -j rule show` lists. */
function host(installedRules: object[] = []): RecordingHost {
  return new RecordingHost()
    .file('/proc/self/status', 'Name:\tnode\nCapEff:\t0000000000001000\n')
    .on(/^ip -j -4 rule show$/, JSON.stringify(installedRules))
    .on(/^ip -j -[46] (rule|route) show/, '[]');
}

describe('UplinkMonitor with a recording host', () => {
  it('plans the policy routes and runs them through the host port, in one batch per family', async () => {
    const h = host();
    const m = new UplinkMonitor(sectionOf(raw, UPLINKS).uplinks, sectionOf(raw, UPLINKS).multiWan, { now: () => 1_000_000 }, log, h);
    expect(m.routing.enabled).toBe(true);
    m.start();
    await m.routesSettled();
    const batches = h.calls.filter((c) => c.cmd === 'ip' && c.args.includes('-batch'));
    expect(batches.map((c) => c.args.join(' '))).toEqual(['-4 -force -batch -']);
    const input = batches[0].input!;
    expect(input).toContain('rule add from 10.201.0.2 lookup 101 pref 10100 protocol 237');
    expect(input).toContain('rule add from 10.202.0.2 lookup 102 pref 10101 protocol 237');
    expect(input).toContain('route replace default table 101 proto 237 via 10.201.0.1 dev edtest-wan1');
    expect(input.split('\n').filter(Boolean).every((l) => / (proto|protocol) 237( |$)/.test(l))).toBe(true);
    await m.stop(false);
  });

  it('without CAP_NET_ADMIN it says why routing is off and runs nothing on the host', async () => {
    const h = new RecordingHost().file('/proc/self/status', 'CapEff:\t0000000000000000\n');
    const m = new UplinkMonitor(sectionOf(raw, UPLINKS).uplinks, sectionOf(raw, UPLINKS).multiWan, { now: () => 0 }, log, h);
    expect(m.routing).toMatchObject({ enabled: false, reason: expect.stringContaining('CAP_NET_ADMIN') });
    m.start();
    await m.routesSettled();
    expect(h.calls.filter((c) => c.cmd === 'ip')).toEqual([]);
    await m.stop(true);
  });

  it('on stop removes only its own rules: a foreign one the host lists stays', async () => {
    const h = host([
      { priority: 10100, src: '10.201.0.2', table: '101', protocol: '237' },
      { priority: 500, src: '192.168.7.0', srclen: 24, table: '200', protocol: 'static' },
    ]);
    const m = new UplinkMonitor(sectionOf(raw, UPLINKS).uplinks, sectionOf(raw, UPLINKS).multiWan, { now: () => 0 }, log, h);
    m.start();
    await m.routesSettled();
    h.calls.length = 0;
    await m.stop(true);
    const removal = h.calls.filter((c) => c.args.includes('-batch')).map((c) => c.input!).join('');
    expect(removal).toContain('rule del from 10.201.0.2 lookup 101 pref 10100 protocol 237');
    expect(removal).not.toMatch(/192\.168\.7|lookup 200/);
  });
});
