/**
 * Checks of `wireguard:` the schema cannot express, shared by config loading (errors name the key
 * path) and `wg add-peer` / the state file (errors name the peer): keys, names, tunnel addresses
 * inside the tunnel prefixes, allowed IPs that no two peers share.
 */
import { ipaddr } from '../cjs.js';
import type { RawWireguard } from './wireguard-section.js';
import type { PathIssue } from '../config/validate.js';
import { isWgKey } from './keys.js';
import { networkOf, overlaps, within } from '../prefix.js';
import { wgSettingsFrom, type WgPeer, type WgSettings } from './wg-model.js';

export interface PeerProblem {
  peer: string;
  /** position in the list checked */
  index: number;
  field: 'name' | 'public-key' | 'address' | 'routes' | 'endpoint' | 'mode';
  message: string;
}

/** A peer's name becomes a DNS label: NAME.wg.<domain>. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

export function peerProblems(s: Pick<WgSettings, 'addresses'>, peers: WgPeer[]): PeerProblem[] {
  const out: PeerProblem[] = [];
  const names = new Map<string, number>();
  const serverHosts = s.addresses.map((a) => a.split('/')[0]);
  peers.forEach((p, index) => {
    const bad = (field: PeerProblem['field'], message: string) => out.push({ peer: p.name, index, field, message: `peer "${p.name}": ${message}` });
    if (!LABEL.test(p.name)) bad('name', 'a name must be one DNS label (letters, digits, inner hyphens; up to 63)');
    const seen = names.get(p.name.toLowerCase());
    if (seen !== undefined) bad('name', `another peer (${peers[seen].origin === 'config' ? 'in the config file' : 'made by wg add-peer'}) has this name`);
    names.set(p.name.toLowerCase(), index);
    if (!isWgKey(p.publicKey)) bad('public-key', 'not a WireGuard key (base64 of 32 bytes, as `wg pubkey` prints)');
    if (p.addresses.length === 0) bad('address', 'needs a tunnel address');
    for (const a of p.addresses) {
      if (!s.addresses.some((t) => within(a, t))) bad('address', `${a} is outside the tunnel prefixes (${s.addresses.map(networkOf).join(', ')})`);
      else if (serverHosts.includes(a.split('/')[0])) bad('address', `${a} is the server's own tunnel address`);
    }
    if (p.routes.length > 0 && p.mode !== 'site-to-site') bad('routes', 'routes need mode: site-to-site');
    if (p.endpoint !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/.test(p.endpoint)) bad('endpoint', `expected HOST:PORT, got "${p.endpoint}"`);
    const mine = [...p.addresses, ...p.routes];
    for (let j = 0; j < index; j++) {
      const other = peers[j];
      const clash = mine.find((m) => [...other.addresses, ...other.routes].some((o) => overlaps(m, o)));
      if (clash) bad(p.routes.includes(clash) ? 'routes' : 'address', `allowed IPs overlap with peer "${other.name}" (${clash})`);
    }
  });
  return out;
}

export function checkWireguard(raw: RawWireguard, domain: string, reverse: string[]): PathIssue[] {
  const w = raw.wireguard;
  if (!w) return [];
  const issues: PathIssue[] = [];
  w.address.forEach((a, i) => {
    const [addr, len] = ipaddr.parseCIDR(a);
    const net = networkOf(a).split('/')[0];
    const edge = (addr.kind() === 'ipv4' && len < 31) || (addr.kind() === 'ipv6' && len < 127);
    if (edge && addr.toString() === ipaddr.parse(net).toString()) {
      issues.push({ path: ['wireguard', 'address', i], message: `${a}: give the server's own address with the prefix length (e.g. ${net.replace(/0$/, '1')}/${len}), not the network` });
    }
  });
  const uplinks = new Set(raw.uplinks.map((u) => u.name));
  for (const name of Object.keys(w.endpoints ?? {})) {
    if (!uplinks.has(name)) issues.push({ path: ['wireguard', 'endpoints', name], message: `no uplink is named "${name}"` });
  }
  const s = wgSettingsFrom(raw, domain, reverse);
  if (s) for (const p of peerProblems(s, s.peers)) issues.push({ path: ['wireguard', 'peers', p.index, p.field], message: p.message });
  return issues;
}
