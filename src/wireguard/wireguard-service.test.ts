/**
 * The WireGuard service against a recording host port: what it runs to bring a tunnel up on a
 * host that has none, the names it publishes, its status from `wg show dump`, and its stop.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseEdgeConfig as parseConfig } from '../app/sections.js';
import { RecordingHost } from '../host/recording-host.js';
import type { ZoneRecord } from '../zone/records.js';
import { generatePrivateKey, publicKeyOf } from './keys.js';
import { sectionOf } from '../config/section.js';
import { WIREGUARD } from './wireguard-section.js';
import { WireguardService } from './wireguard-service.js';
import type { UplinkEvents } from '../uplinks/uplink-source.js';

const log = pino({ level: 'silent' });

function lab(extra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'edgedns-wgsvc-'));
  writeFileSync(join(dir, 'wg.key'), `${generatePrivateKey()}\n`, { mode: 0o600 });
  const peerKey = publicKeyOf(generatePrivateKey());
  const c = parseConfig(`
upstreams: [udp://127.0.0.1:53]
wireguard:
  interface: wg9
  address: [10.44.0.1/24]
  private-key-file: ${dir}/wg.key
  state-file: ${dir}/state.json
  peers:
    - { name: office, public-key: "${peerKey}", address: 10.44.0.10/32, mode: site-to-site, routes: [192.168.20.0/24] }
${extra}`, 'wg.yaml');
  const published = new Map<string, ZoneRecord[]>();
  const zone = {
    set: (_o: string, owner: string, type: string, records: ZoneRecord[]) => { published.set(`${owner} ${type}`, records); },
    clear: () => published.clear(),
  };
  return { settings: sectionOf(c, WIREGUARD)!, peerKey, published, zone };
}

describe('WireguardService with a recording host', () => {
  it('creates the interface, syncs the config, addresses and routes from the one planner, and publishes names', async () => {
    const { settings, published, zone } = lab();
    const host = new RecordingHost().on(/^ip -j -d link show dev wg9$/, '');
    const svc = new WireguardService(settings, { zone, zoneTtl: 300, uplinks: () => null, clock: { now: () => Date.now() }, log, host });
    await svc.start();
    const lines = host.lines().filter((l) => !l.startsWith('ip -j'));
    expect(lines[0]).toBe('ip link add wg9 type wireguard');
    expect(lines[1]).toMatch(/^wg syncconf wg9 \/tmp\/edgedns-wg-\w+\/wg\.conf$/);
    expect(lines.slice(2)).toEqual([
      'ip address replace 10.44.0.1/24 dev wg9',
      'ip link set wg9 mtu 1420 up',
      'ip -4 route replace 192.168.20.0/24 dev wg9 proto 238',
    ]);
    expect(published.get('office.wg.home.arpa A')?.map((r) => r.value)).toEqual(['10.44.0.10']);
    await svc.stop();
    expect(published.size).toBe(0);
    expect(host.lines()).not.toContain('ip link del wg9'); // down-on-stop is off: remote users stay connected
  });

  it('reads peer state from wg show dump', async () => {
    const { settings, peerKey, zone } = lab();
    const now = Date.now();
    const host = new RecordingHost()
      .on(/^ip -j -d link show dev wg9$/, JSON.stringify([{ ifname: 'wg9', linkinfo: { info_kind: 'wireguard' } }]))
      .on(/^ip -j addr show dev wg9$/, JSON.stringify([{ addr_info: [{ local: '10.44.0.1', prefixlen: 24, scope: 'global' }] }]))
      .on(/^wg show wg9 dump$/, `PRIVATE\tPUBKEY\t51820\toff\n${peerKey}\t(none)\t203.0.113.9:51820\t10.44.0.10/32,192.168.20.0/24\t${Math.floor(now / 1000) - 5}\t1000\t2000\toff\n`);
    const svc = new WireguardService(settings, { zone, zoneTtl: 300, uplinks: () => null, clock: { now: () => now }, log, host });
    await svc.start();
    expect(host.lines()).not.toContain('ip link add wg9 type wireguard'); // there already
    expect(host.lines()).not.toContain('ip address replace 10.44.0.1/24 dev wg9'); // and so is its address
    const st = await svc.status();
    expect(st.peers).toMatchObject([{ name: 'office', endpoint: '203.0.113.9:51820', state: 'up', rx: 1000, tx: 2000 }]);
    await svc.stop();
  });

  it('when the uplink changes, re-dials dialed peers and reaches connected remote clients from the new one', async () => {
    const phone = publicKeyOf(generatePrivateKey());
    const old = publicKeyOf(generatePrivateKey());
    const { settings, peerKey, zone } = lab(`    - { name: phone, public-key: "${phone}", address: 10.44.0.2/32 }
    - { name: tablet, public-key: "${old}", address: 10.44.0.3/32 }
    - { name: branch, public-key: "${publicKeyOf(generatePrivateKey())}", address: 10.44.0.11/32, mode: site-to-site, endpoint: "198.51.100.4:51820" }
`);
    const now = Date.now();
    const s = Math.floor(now / 1000);
    const host = new RecordingHost()
      .on(/^ip -j -d link show dev wg9$/, JSON.stringify([{ ifname: 'wg9', linkinfo: { info_kind: 'wireguard' } }]))
      .on(/^wg show wg9 dump$/, ['PRIVATE\tPUBKEY\t51820\toff',
        `${peerKey}\t(none)\t(none)\t10.44.0.10/32\t0\t0\t0\toff`, // never connected: nothing to tell
        `${phone}\t(none)\t203.0.113.9:40001\t0.0.0.0/0\t${s - 20}\t10\t20\toff`, // connected: told
        `${old}\t(none)\t203.0.113.10:40002\t0.0.0.0/0\t${s - 600}\t10\t20\toff`, // stale: left alone
      ].join('\n'));
    let active = ['wan-a'];
    const listeners: Array<() => void> = [];
    const uplinks = {
      uplinks: [{ name: 'wan-a', priority: 100 }, { name: 'wan-b', priority: 50 }],
      current: () => ({ active }),
      onChange: (cb: () => void) => { listeners.push(cb); return () => undefined; },
      routesSettled: async () => undefined,
    } as unknown as UplinkEvents;
    const svc = new WireguardService(settings, { zone, zoneTtl: 300, uplinks: () => uplinks, clock: { now: () => now }, log, host });
    await svc.start();
    const before = host.calls.length;
    active = ['wan-b'];
    for (const l of listeners) l();
    await new Promise((r) => setTimeout(r, 50));
    const sets = host.lines().slice(before).filter((l) => l.startsWith('wg set'));
    expect(sets.filter((l) => l.includes('198.51.100.4:51820'))).toHaveLength(1); // the site-to-site peer, re-dialed
    expect(sets.filter((l) => l.includes(phone))).toEqual([
      `wg set wg9 peer ${phone} persistent-keepalive 0`,
      `wg set wg9 peer ${phone} endpoint 203.0.113.9:40001 persistent-keepalive 25`, // one packet, now, by the new uplink
      `wg set wg9 peer ${phone} persistent-keepalive 0`, // and back to what the peer has
    ]);
    expect(sets.some((l) => l.includes(old) || l.includes(peerKey))).toBe(false);
    await svc.stop();
  });
});
