/**
 * Pure rendering: the server's `wg syncconf` file, a client's wg-quick file, and the plan
 * `wg apply --dry-run` prints. Secrets come in through `Secrets`, so a dry run can print
 * placeholders instead of keys.
 */
import { networkOf } from '../prefix.js';
import { endpointWithPort, hostOf, type TunnelScope, type WgPeer, type WgSettings } from './wg-model.js';

export interface Secrets {
  privateKey: string;
  /** the peer's preshared key, or undefined when it has none */
  psk(peer: WgPeer): string | undefined;
}

/** Route protocol number on site-to-site routes, so apply finds (and removes) only its own. */
export const WG_ROUTE_PROTO = 238;
/** What edgedns-made peers keep alive with, and site-to-site peers edgedns dials by default. */
export const DEFAULT_KEEPALIVE = 25;

export function peerAllowedIps(p: WgPeer): string[] {
  return [...p.addresses, ...p.routes];
}

export function peerKeepalive(p: WgPeer): number | undefined {
  return p.keepalive ?? (p.mode === 'site-to-site' && p.endpoint ? DEFAULT_KEEPALIVE : undefined);
}

export function renderServerConf(s: WgSettings, peers: WgPeer[], secrets: Secrets): string {
  const lines = ['[Interface]', `PrivateKey = ${secrets.privateKey}`, `ListenPort = ${s.listenPort}`];
  for (const p of peers) {
    lines.push('', '[Peer]', `# ${p.name} (${p.mode}, ${p.origin})`, `PublicKey = ${p.publicKey}`);
    const psk = secrets.psk(p);
    if (psk !== undefined) lines.push(`PresharedKey = ${psk}`);
    lines.push(`AllowedIPs = ${peerAllowedIps(p).join(', ')}`);
    if (p.endpoint) lines.push(`Endpoint = ${p.endpoint}`);
    const ka = peerKeepalive(p);
    if (ka !== undefined) lines.push(`PersistentKeepalive = ${ka}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface ClientConf {
  addresses: string[];
  dns: string;
  privateKey: string;
  serverPublicKey: string;
  psk?: string;
  endpoint: string;
  allowedIps: string[];
  mtu?: number;
}

/** The wg-quick file a phone or laptop imports. */
export function renderClientConf(c: ClientConf): string {
  const lines = [
    '[Interface]',
    `PrivateKey = ${c.privateKey}`,
    `Address = ${c.addresses.join(', ')}`,
    `DNS = ${c.dns}`,
  ];
  if (c.mtu !== undefined) lines.push(`MTU = ${c.mtu}`);
  lines.push('', '[Peer]', `PublicKey = ${c.serverPublicKey}`);
  if (c.psk !== undefined) lines.push(`PresharedKey = ${c.psk}`);
  lines.push(`AllowedIPs = ${c.allowedIps.join(', ')}`, `Endpoint = ${c.endpoint}`, `PersistentKeepalive = ${DEFAULT_KEEPALIVE}`);
  return `${lines.join('\n')}\n`;
}

export function clientAllowedIps(s: WgSettings, scope: TunnelScope): string[] {
  if (scope === 'full') return s.addresses.some((a) => a.includes(':')) ? ['0.0.0.0/0', '::/0'] : ['0.0.0.0/0'];
  return s.splitAllowedIps;
}

/** Uplink names, the selected ones first, then the rest by failover priority. */
export function uplinkPreference(active: string[], uplinks: ReadonlyArray<{ readonly name: string; readonly priority: number }>): string[] {
  const rest = [...uplinks].sort((a, b) => b.priority - a.priority).map((u) => u.name).filter((n) => !active.includes(n));
  return [...active, ...rest];
}

/**
 * The endpoint clients dial: the selected uplink's entry in `endpoints`, else `endpoint`.
 * `selected`: uplink names in preference order (the active ones first).
 */
export function clientEndpoint(s: WgSettings, selected: string[]): { endpoint: string; uplink: string | null } | null {
  for (const name of selected) {
    const e = s.endpoints[name];
    if (e !== undefined) return { endpoint: endpointWithPort(e, s.listenPort), uplink: name };
  }
  if (s.endpoint !== undefined) return { endpoint: endpointWithPort(s.endpoint, s.listenPort), uplink: null };
  return null;
}

export interface RouteWant {
  prefix: string;
  family: 4 | 6;
}

export function wantedRoutes(s: WgSettings, peers: WgPeer[]): RouteWant[] {
  const tunnelNets = new Set(s.addresses.map(networkOf));
  return peers.flatMap((p) => p.routes)
    .filter((r) => !tunnelNets.has(networkOf(r)))
    .map((prefix) => ({ prefix: networkOf(prefix), family: prefix.includes(':') ? 6 : 4 }));
}

/** What `wg apply` would do on a host with no tunnel yet; secrets stand as placeholders. */
