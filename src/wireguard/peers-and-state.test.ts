import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/errors.js';
import { loadEdgeConfig as loadConfig, parseEdgeConfig as parseConfig } from '../app/sections.js';
import { parseQuery } from '../dns/query.js';
import { decode, makeQuery } from '../../test/helpers/packets.js';
import { LocalZone } from '../zone/local-zone.js';
import { ZoneLayers } from '../zone/zone-layers.js';
import { generatePrivateKey, publicKeyOf } from './keys.js';
import { loadPeers } from './peer-set.js';
import { publishPeerNames } from './peer-names.js';
import { readState } from './state-file.js';
import { wgAddPeer, wgInit, wgRemovePeer, type Io } from './wg-command.js';
import { sectionOf } from '../config/section.js';
import { WIREGUARD } from './wireguard-section.js';

const KEY_A = publicKeyOf(generatePrivateKey());
const KEY_B = publicKeyOf(generatePrivateKey());

function capture(): Io & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', out: (t: string) => { io.stdout += t; }, err: (t: string) => { io.stderr += t; } };
  return io;
}

function lab(extra = '', endpoint = 'endpoint: 203.0.113.5') {
  const dir = mkdtempSync(join(tmpdir(), 'edgedns-wg-'));
  const file = join(dir, 'edgedns.yaml');
  writeFileSync(file, `
zone: { domain: home.arpa, reverse: [10.0.0.0/24] }
upstreams: [udp://127.0.0.1:53]
wireguard:
  address: [10.44.0.1/24]
  private-key-file: ${dir}/keys/wg0.key
  ${endpoint}
  state-file: ${dir}/state/wireguard.json
  peers:
    - { name: office, public-key: "${KEY_A}", address: 10.44.0.10/32, mode: site-to-site, routes: [192.168.20.0/24] }
${extra}`);
  return { dir, file, state: join(dir, 'state', 'wireguard.json') };
}

async function issuesOf(yaml: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'edgedns-wg-'));
  writeFileSync(join(dir, 'c.yaml'), yaml);
  try {
    await loadConfig(join(dir, 'c.yaml'));
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.line} ${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe('wireguard config checks', () => {
  it('names the key and line of each bad peer', async () => {
    const issues = await issuesOf(`upstreams: [udp://127.0.0.1:53]
uplinks: [{ name: wan-a, interface: wan1 }]
wireguard:
  address: [10.44.0.0/24]
  private-key-file: /k
  endpoints: { wan-z: 203.0.113.5 }
  peers:
    - { name: a, public-key: "not-a-key", address: 10.44.0.2/32 }
    - { name: b, public-key: "${KEY_A}", address: 10.45.0.2/32 }
    - { name: c, public-key: "${KEY_B}", address: 10.44.0.3/32, mode: site-to-site, routes: [192.168.0.0/16] }
    - { name: d, public-key: "${KEY_B}", address: 10.44.0.4/32, mode: site-to-site, routes: [192.168.20.0/24] }
    - { name: a, public-key: "${KEY_B}", address: 10.44.0.5/32 }
    - { name: bad_name, public-key: "${KEY_B}", address: 10.44.0.6/32, routes: [10.9.0.0/24] }
`);
    expect(issues).toEqual([
      expect.stringMatching(/^4 wireguard\.address\[0\]: 10\.44\.0\.0\/24: give the server's own address/),
      '6 wireguard.endpoints.wan-z: no uplink is named "wan-z"',
      '8 wireguard.peers[0].public-key: peer "a": not a WireGuard key (base64 of 32 bytes, as `wg pubkey` prints)',
      expect.stringMatching(/^9 wireguard\.peers\[1\]\.address: peer "b": 10\.45\.0\.2\/32 is outside the tunnel prefixes \(10\.44\.0\.0\/24\)/),
      '11 wireguard.peers[3].routes: peer "d": allowed IPs overlap with peer "c" (192.168.20.0/24)',
      '12 wireguard.peers[4].name: peer "a": another peer (in the config file) has this name',
      expect.stringMatching(/^13 wireguard\.peers\[5\]\.name: peer "bad_name": a name must be one DNS label/),
      '13 wireguard.peers[5].routes: peer "bad_name": routes need mode: site-to-site',
    ]);
  });

  it('accepts the full example of CONFIG.md once its placeholder key is a real one', async () => {
    const text = readFileSync(new URL('../../test/fixtures/config-md-full.yaml', import.meta.url), 'utf8');
    expect(await issuesOf(text)).toEqual([expect.stringContaining('wireguard.peers[0].public-key: peer "office": not a WireGuard key')]);
    expect(await issuesOf(text.replace('"base64 key"', `"${KEY_A}"`))).toEqual([]);
  });
});

describe('wg init, add-peer, remove-peer', () => {
  it('makes the server key once, mode 0600, and prints only the public key', () => {
    const l = lab();
    const c = parseConfig(readFileSync(l.file, 'utf8'), l.file);
    const io = capture();
    wgInit(c, io);
    const keyFile = join(l.dir, 'keys', 'wg0.key');
    const priv = readFileSync(keyFile, 'utf8').trim();
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(io.stdout).toBe(`${publicKeyOf(priv)}\n`);
    expect(io.stdout + io.stderr).not.toContain(priv);
    wgInit(c, io);
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(priv);
  });

  it('adds a peer: next address, state file, psk file 0600, config whose key matches the state', async () => {
    const l = lab();
    const c = parseConfig(readFileSync(l.file, 'utf8'), l.file);
    wgInit(c, capture());
    const io = capture();
    await wgAddPeer(c, 'phone', { scope: 'full', psk: true }, io);
    const conf = io.stdout;
    const priv = /PrivateKey = (\S+)/.exec(conf)![1];
    const [entry] = readState(l.state).peers;
    expect(entry).toMatchObject({ name: 'phone', 'public-key': publicKeyOf(priv), address: ['10.44.0.2/32'], scope: 'full' });
    expect(readFileSync(l.state, 'utf8')).not.toContain(priv);
    expect(statSync(l.state).mode & 0o777).toBe(0o600);
    expect(statSync(entry['preshared-key-file']!).mode & 0o777).toBe(0o600);
    expect(conf).toContain(`PresharedKey = ${readFileSync(entry['preshared-key-file']!, 'utf8').trim()}`);
    expect(conf).toMatch(/Address = 10\.44\.0\.2\/32\nDNS = 10\.44\.0\.1\n/);
    expect(conf).toContain('Endpoint = 203.0.113.5:51820');
    expect(io.stderr).toContain('phone.wg.home.arpa');

    await wgAddPeer(c, 'laptop', { scope: 'split', psk: false }, capture());
    expect(loadPeers(sectionOf(c, WIREGUARD)!).map((p) => [p.name, p.addresses[0]])).toEqual([['office', '10.44.0.10/32'], ['phone', '10.44.0.2/32'], ['laptop', '10.44.0.3/32']]);
  });

  it('refuses a duplicate or bad name, or a missing endpoint, and writes nothing', async () => {
    const l = lab();
    const c = parseConfig(readFileSync(l.file, 'utf8'), l.file);
    wgInit(c, capture());
    await wgAddPeer(c, 'phone', { scope: 'full', psk: false }, capture());
    const before = readFileSync(l.state, 'utf8');
    await expect(wgAddPeer(c, 'phone', { scope: 'full', psk: true }, capture())).rejects.toMatchObject({ code: 'WG_PEER_INVALID', message: expect.stringContaining('peer "phone": another peer (made by wg add-peer) has this name') });
    await expect(wgAddPeer(c, 'office', { scope: 'full', psk: false }, capture())).rejects.toThrow(/peer "office": another peer \(in the config file\)/);
    await expect(wgAddPeer(c, 'my phone', { scope: 'full', psk: false }, capture())).rejects.toThrow(/peer "my phone": a name must be one DNS label/);
    expect(readFileSync(l.state, 'utf8')).toBe(before);
    expect(existsSync(join(l.dir, 'state', 'wireguard-psk', 'phone.psk'))).toBe(false);

    const noEndpoint = lab('', '');
    const c2 = parseConfig(readFileSync(noEndpoint.file, 'utf8'), noEndpoint.file);
    wgInit(c2, capture());
    await expect(wgAddPeer(c2, 'phone', { scope: 'full', psk: true }, capture())).rejects.toMatchObject({ code: 'WG_NO_ENDPOINT' });
    expect(existsSync(noEndpoint.state)).toBe(false);
  });

  it('needs the server key first, and says how to make it', async () => {
    const l = lab();
    const c = parseConfig(readFileSync(l.file, 'utf8'), l.file);
    await expect(wgAddPeer(c, 'phone', { scope: 'full', psk: false }, capture())).rejects.toMatchObject({ code: 'WG_KEY_MISSING', message: expect.stringContaining('edgedns wg init') });
  });

  it('removes a peer and its psk file; hand-written peers stay in the config', async () => {
    const l = lab();
    const c = parseConfig(readFileSync(l.file, 'utf8'), l.file);
    wgInit(c, capture());
    await wgAddPeer(c, 'phone', { scope: 'full', psk: true }, capture());
    const psk = readState(l.state).peers[0]['preshared-key-file']!;
    wgRemovePeer(c, 'phone', capture());
    expect(readState(l.state).peers).toEqual([]);
    expect(existsSync(psk)).toBe(false);
    expect(() => wgRemovePeer(c, 'phone', capture())).toThrow(/no peer "phone"/);
    expect(() => wgRemovePeer(c, 'office', capture())).toThrow(/written in .*edgedns\.yaml; remove it there/);
  });

  it('reports a broken state file or a state peer that clashes with the config, naming them', () => {
    const l = lab();
    const c = parseConfig(readFileSync(l.file, 'utf8'), l.file);
    const s = sectionOf(c, WIREGUARD)!;
    mkdirSync(join(l.dir, 'state'));
    writeFileSync(l.state, '{"version":1,"peers":[');
    expect(() => loadPeers(s)).toThrow(new RegExp(`${l.state}: not JSON`));
    writeFileSync(l.state, JSON.stringify({ version: 1, peers: [{ name: 'tablet', 'public-key': KEY_B, address: ['192.168.20.9/32'], scope: 'full', created: 'x' }] }));
    expect(() => loadPeers(s)).toThrow(/peer "tablet": 192\.168\.20\.9\/32 is outside the tunnel prefixes/);
    writeFileSync(l.state, JSON.stringify({ version: 1, peers: [{ name: 'tablet', 'public-key': KEY_B, address: ['10.44.0.10/32'], scope: 'full', created: 'x' }] }));
    expect(() => loadPeers(s)).toThrow(/peer "tablet": allowed IPs overlap with peer "office" \(10\.44\.0\.10\/32\)/);
  });
});

describe('peer names in the zone', () => {
  it('serves NAME.wg.<domain> with authority from the wireguard layer', () => {
    const l = lab();
    const c = parseConfig(readFileSync(l.file, 'utf8'), l.file);
    const layers = new ZoneLayers();
    publishPeerNames(layers, 'wg.home.arpa', [{ name: 'Phone', publicKey: KEY_B, addresses: ['10.44.0.2/32', 'fd44::2/128'], mode: 'remote-access', routes: [], origin: 'state' }], 60);
    const zone = new LocalZone(c.zone, layers);
    const ask = (name: string, type: string) => {
      const query = makeQuery(name, type);
      return decode(zone.answer(zone.apexes[0], parseQuery(query), query)!);
    };
    expect(ask('phone.wg.home.arpa', 'A').answers).toMatchObject([{ type: 'A', data: '10.44.0.2', ttl: 60 }]);
    expect(ask('phone.wg.home.arpa', 'AAAA').answers).toMatchObject([{ type: 'AAAA', data: 'fd44::2' }]);
    expect(ask('wg.home.arpa', 'A').rcode).toBe('NOERROR'); // an empty non-terminal
    publishPeerNames(layers, 'wg.home.arpa', [], 60);
    expect(ask('phone.wg.home.arpa', 'A').rcode).toBe('NXDOMAIN');
  });
});
