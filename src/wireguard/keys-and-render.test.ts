import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEdgeConfig as parseConfig } from '../app/sections.js';
import { missing } from '../../test/helpers/system.js';
import { nextFreeAddresses } from './address-pool.js';
import { generatePresharedKey, generatePrivateKey, isWgKey, publicKeyOf } from './keys.js';
import { clientAllowedIps, clientEndpoint, renderClientConf, renderServerConf } from './render.js';
import { dryRunPlan, NO_TUNNEL } from './apply-tunnel.js';
import { parseDump } from './tunnel-status.js';
import { networkOf, overlaps, within } from '../prefix.js';
import { endpointWithPort, type WgPeer } from './wg-model.js';
import { sectionOf } from '../config/section.js';
import { WIREGUARD } from './wireguard-section.js';

const wgMissing = missing('wg');
const wg = (args: string[], input?: string) => execFileSync('wg', args, { input, encoding: 'utf8' }).trim();

describe.skipIf(wgMissing)('keys against the real wg tool', () => {
  it('derives the same public key as `wg pubkey` for keys from `wg genkey` and from us', () => {
    for (let i = 0; i < 5; i++) {
      const theirs = wg(['genkey']);
      expect(publicKeyOf(theirs)).toBe(wg(['pubkey'], `${theirs}\n`));
      const ours = generatePrivateKey();
      expect(publicKeyOf(ours)).toBe(wg(['pubkey'], `${ours}\n`));
    }
  });

  it('makes keys `wg` accepts as preshared keys', () => {
    expect(isWgKey(generatePresharedKey())).toBe(true);
    expect(isWgKey(wg(['genpsk']))).toBe(true);
  });
});

describe('keys', () => {
  it('clamps private keys the way wg genkey does', () => {
    const d = Buffer.from(generatePrivateKey(), 'base64');
    expect(d[0] & 7).toBe(0);
    expect(d[31] & 0xc0).toBe(0x40);
  });

  it('rejects what is not base64 of 32 bytes', () => {
    for (const bad of ['', 'abc', 'A'.repeat(44), `${'A'.repeat(43)}==`, Buffer.alloc(31).toString('base64'), `${Buffer.alloc(32).toString('base64')} `]) {
      expect(isWgKey(bad)).toBe(false);
    }
    expect(() => publicKeyOf('nope')).toThrow(/not a WireGuard key/);
  });
});

describe('address allocation', () => {
  it('takes the lowest host number free in every tunnel prefix', () => {
    const server = ['10.44.0.1/24', 'fd44::1/64'];
    expect(nextFreeAddresses(server, [])).toEqual(['10.44.0.2/32', 'fd44::2/128']);
    expect(nextFreeAddresses(server, ['10.44.0.2/32', 'fd44::2/128', '10.44.0.4/32'])).toEqual(['10.44.0.3/32', 'fd44::3/128']);
    // fd44::3 is taken although 10.44.0.3 is not: both families move on to .5 together
    expect(nextFreeAddresses(server, ['10.44.0.2/32', 'fd44::3/128', '10.44.0.4/32'])).toEqual(['10.44.0.5/32', 'fd44::5/128']);
  });

  it('never hands out the network or broadcast address, and says when the prefix is full', () => {
    expect(nextFreeAddresses(['10.9.0.2/30'], [])).toEqual(['10.9.0.1/32']);
    expect(() => nextFreeAddresses(['10.9.0.2/30'], ['10.9.0.1/32'])).toThrow(/no free tunnel address left in 10.9.0.0\/30/);
  });

  it('counts prefixes from the network, whatever host the server has', () => {
    expect(networkOf('10.44.0.1/24')).toBe('10.44.0.0/24');
    expect(networkOf('fd44::1/64')).toBe('fd44::/64');
    expect(networkOf('192.168.20.7/23')).toBe('192.168.20.0/23');
    expect(overlaps('10.44.0.2/32', '10.44.0.0/24')).toBe(true);
    expect(overlaps('10.44.0.0/24', '10.45.0.0/24')).toBe(false);
    expect(overlaps('10.44.0.0/24', 'fd44::/64')).toBe(false);
    expect(within('10.44.0.9/32', '10.44.0.1/24')).toBe(true);
    expect(within('10.44.0.0/16', '10.44.0.1/24')).toBe(false);
  });
});

const config = parseConfig(`
zone: { domain: home.arpa, reverse: [10.0.0.0/24] }
upstreams: [udp://127.0.0.1:53]
uplinks:
  - { name: wan-a, interface: wan1, source: 10.201.0.2, priority: 100 }
  - { name: wan-b, interface: wan2, source: 10.202.0.2, priority: 50 }
wireguard:
  address: [10.44.0.1/24, "fd44::1/64"]
  private-key-file: /nonexistent/wg0.key
  endpoint: 198.51.100.9
  endpoints: { wan-a: 203.0.113.5, wan-b: "vpn.example.net:4500" }
  peers:
    - { name: office, public-key: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", address: 10.44.0.10/32, mode: site-to-site, routes: [192.168.20.0/24], endpoint: "office.example.net:51820" }
`, 'wg.yaml');
const s = sectionOf(config, WIREGUARD)!;

describe('rendering', () => {
  it('reads the section with its defaults', () => {
    expect(s).toMatchObject({ interface: 'wg0', listenPort: 51820, dns: '10.44.0.1', mtu: 1420, nameSuffix: 'wg.home.arpa', downOnStop: false, stateFile: '/var/lib/edgedns/wireguard.json' });
    expect(s.splitAllowedIps).toEqual(['10.44.0.0/24', 'fd44::/64', '10.0.0.0/24', '192.168.20.0/24']);
    // clients are told to ask 10.44.0.1, so edgedns listens on the tunnel too
    expect(config.listen.find((l) => l.interface === 'wg0')).toMatchObject({ port: 53, protocols: ['udp', 'tcp'] });
  });

  it('puts the selected uplink\'s endpoint in client configs, else the plain endpoint', () => {
    expect(clientEndpoint(s, ['wan-a', 'wan-b'])).toEqual({ endpoint: '203.0.113.5:51820', uplink: 'wan-a' });
    expect(clientEndpoint(s, ['wan-b', 'wan-a'])).toEqual({ endpoint: 'vpn.example.net:4500', uplink: 'wan-b' });
    expect(clientEndpoint(s, [])).toEqual({ endpoint: '198.51.100.9:51820', uplink: null });
    expect(endpointWithPort('2001:db8::5', 51820)).toBe('[2001:db8::5]:51820');
    expect(endpointWithPort('[2001:db8::5]:443', 51820)).toBe('[2001:db8::5]:443');
  });

  it('renders a client config wg-quick reads, full or split', () => {
    const conf = renderClientConf({
      addresses: ['10.44.0.2/32', 'fd44::2/128'], dns: s.dns, privateKey: 'PRIV', serverPublicKey: 'PUB', psk: 'PSK',
      endpoint: '203.0.113.5:51820', allowedIps: clientAllowedIps(s, 'full'),
    });
    expect(conf).toBe([
      '[Interface]', 'PrivateKey = PRIV', 'Address = 10.44.0.2/32, fd44::2/128', 'DNS = 10.44.0.1', '',
      '[Peer]', 'PublicKey = PUB', 'PresharedKey = PSK', 'AllowedIPs = 0.0.0.0/0, ::/0', 'Endpoint = 203.0.113.5:51820', 'PersistentKeepalive = 25', '',
    ].join('\n'));
    expect(clientAllowedIps(s, 'split')).toEqual(s.splitAllowedIps);
  });

  it('renders the server config `wg setconf` accepts, and a dry run without secrets', () => {
    const phone: WgPeer = { name: 'phone', publicKey: generatePrivateKey(), presharedKeyFile: '/x/phone.psk', addresses: ['10.44.0.2/32'], mode: 'remote-access', routes: [], origin: 'state' };
    const peers = [...s.peers, phone];
    const priv = generatePrivateKey();
    const conf = renderServerConf(s, peers, { privateKey: priv, psk: (p) => (p.name === 'phone' ? 'K'.repeat(43) + '=' : undefined) });
    expect(conf).toContain(`PrivateKey = ${priv}\nListenPort = 51820`);
    expect(conf).toContain('AllowedIPs = 10.44.0.10/32, 192.168.20.0/24\nEndpoint = office.example.net:51820\nPersistentKeepalive = 25');
    expect(conf).toContain(`PublicKey = ${phone.publicKey}\nPresharedKey = ${'K'.repeat(43)}=\nAllowedIPs = 10.44.0.2/32\n`);
    const plan = dryRunPlan(s, peers, NO_TUNNEL);
    expect(plan).not.toContain(priv);
    expect(plan).toContain('ip link add wg0 type wireguard');
    expect(plan).toContain('PrivateKey = (the key in /nonexistent/wg0.key)');
    expect(plan).toContain('ip -4 route replace 192.168.20.0/24 dev wg0 proto 238');
    expect(plan).toContain('ip address replace fd44::1/64 dev wg0');
    expect(plan).toContain('phone.wg.home.arpa → 10.44.0.2');
    // from a host that has the tunnel with an address and a route it no longer wants: the same
    // planner apply runs says what goes, and adds nothing that is there
    const have = { exists: true, addresses: ['10.44.0.1/24', '10.99.0.1/24'], routes: { 4: ['192.168.20.0/24', '192.168.99.0/24'], 6: [] } };
    const again = dryRunPlan(s, peers, have);
    expect(again).not.toContain('ip link add');
    expect(again).toContain('ip address del 10.99.0.1/24 dev wg0');
    expect(again).not.toContain('ip address replace 10.44.0.1/24');
    expect(again).toContain('ip -4 route del 192.168.99.0/24 dev wg0 proto 238');
    expect(again).not.toContain('route replace 192.168.20.0/24');
  });
});

describe.skipIf(wgMissing)('rendered server config through the real wg parser', () => {
  it('parses: `wg setconf` reads the whole file before it looks for the device', () => {
    // A parse error prints "Line unrecognized" / "Configuration parsing error"; a good file gets
    // as far as the (missing) device.
    // an IP endpoint: wg resolves host names while it parses
    const peers = s.peers.map((p) => ({ ...p, endpoint: '192.0.2.10:51820' }));
    const conf = renderServerConf(s, peers, { privateKey: generatePrivateKey(), psk: () => generatePresharedKey() });
    const file = join(mkdtempSync(join(tmpdir(), 'edgedns-wg-')), 'wg.conf');
    writeFileSync(file, conf);
    let stderr = '';
    try {
      execFileSync('wg', ['setconf', 'edgedns-none0', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    expect(stderr).not.toMatch(/unrecognized|parsing error|Invalid/i);
    expect(stderr).toMatch(/Unable to modify interface/);
  });
});

describe('status from `wg show <if> dump`', () => {
  const now = 1_800_000_000_000;
  const peers: WgPeer[] = [{ name: 'phone', publicKey: 'P1', addresses: ['10.44.0.2/32'], mode: 'remote-access', routes: [], origin: 'state' }];
  it('reads states never, up (handshake under 3 minutes) and stale, and drops the private key', () => {
    const dump = [
      'PRIVATEKEY\tSERVERPUB\t51820\toff',
      `P1\t(none)\t10.98.0.2:40000\t10.44.0.2/32\t${now / 1000 - 30}\t860\t1224\toff`,
      `P2\t(none)\t(none)\t10.44.0.3/32,fd44::3/128\t0\t0\t0\toff`,
      `P3\t(none)\t10.98.0.3:1\t10.44.0.4/32\t${now / 1000 - 600}\t1\t2\t25`,
    ].join('\n');
    const r = parseDump(dump, peers, now);
    expect(r.iface).toEqual({ publicKey: 'SERVERPUB', listenPort: 51820 });
    expect(JSON.stringify(r)).not.toContain('PRIVATEKEY');
    expect(r.peers.map((p) => [p.name, p.state, p.handshakeAgeS, p.endpoint])).toEqual([
      ['phone', 'up', 30, '10.98.0.2:40000'], [null, 'never', null, null], [null, 'stale', 600, '10.98.0.3:1'],
    ]);
    expect(r.peers[1].allowedIps).toEqual(['10.44.0.3/32', 'fd44::3/128']);
    expect(r.peers[0]).toMatchObject({ rx: 860, tx: 1224, address: ['10.44.0.2/32'] });
  });
});
