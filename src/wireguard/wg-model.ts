/**
 * The `wireguard:` section as the room uses it: the server side, hand-written peers from the
 * config, and peers `wg add-peer` made (the state file), merged into one list.
 */
import { basename, dirname, join } from 'node:path';
import type { Config } from '../config/types.js';
import { networkOf } from '../prefix.js';
import type { ListenConfig } from '../config/types.js';
import type { RawWireguard } from './wireguard-section.js';
import { EdgeError } from '../errors.js';

export type PeerMode = 'remote-access' | 'site-to-site';
export type TunnelScope = 'full' | 'split';

export interface WgPeer {
  name: string;
  publicKey: string;
  presharedKeyFile?: string;
  /** tunnel addresses as prefixes (10.44.0.2/32, fd44::2/128) */
  addresses: string[];
  mode: PeerMode;
  /** site-to-site: prefixes behind the peer, routed into the tunnel */
  routes: string[];
  /** host:port edgedns dials; without it, the peer dials us */
  endpoint?: string;
  /** seconds */
  keepalive?: number;
  /** `config`: written by hand; `state`: made by `wg add-peer` */
  origin: 'config' | 'state';
  /** add-peer's choice for the client's AllowedIPs */
  scope?: TunnelScope;
}

export interface WgSettings {
  interface: string;
  listenPort: number;
  /** the server's tunnel addresses with their prefix length (10.44.0.1/24) */
  addresses: string[];
  privateKeyFile: string;
  /** pushed to clients */
  dns: string;
  endpoint?: string;
  /** uplink name → host[:port] clients dial when that uplink is selected */
  endpoints: Record<string, string>;
  stateFile: string;
  /** hand-written peers, in file order */
  peers: WgPeer[];
  /** AllowedIPs of `--split` clients */
  splitAllowedIps: string[];
  mtu: number;
  /** remove the interface when edgedns stops (default: leave the tunnel up) */
  downOnStop: boolean;
  /** the zone names are published under: `wg.<zone.domain>` */
  nameSuffix: string;
}

type RawWg = NonNullable<RawWireguard['wireguard']>;

export type WgErrorCode =
  'WG_KEY_MISSING' | 'WG_KEY_INVALID' | 'WG_STATE_INVALID' | 'WG_PEER_INVALID' | 'WG_NO_ADDRESS' | 'WG_NO_ENDPOINT' | 'WG_TOOL_FAILED' | 'WG_NOT_CONFIGURED';

export class WgError extends EdgeError<WgErrorCode> {}

export function hostOf(cidr: string): string {
  return cidr.split('/')[0];
}

export function peerFromRaw(p: RawWg['peers'][number]): WgPeer {
  return {
    name: p.name,
    publicKey: p['public-key'],
    presharedKeyFile: p['preshared-key-file'],
    addresses: (Array.isArray(p.address) ? p.address : [p.address]).map(asHostPrefix),
    mode: p.mode,
    routes: p.routes,
    endpoint: p.endpoint,
    keepalive: p.keepalive === undefined ? undefined : Math.round(p.keepalive / 1000),
    origin: 'config',
  };
}

/** A bare address means that one host: 10.44.0.9 → 10.44.0.9/32. */
function asHostPrefix(a: string): string {
  if (a.includes('/')) return a;
  return `${a}/${a.includes(':') ? 128 : 32}`;
}

/** The typed settings of `wireguard:`, with the zone's domain and reverse prefixes they derive from. */
export function wgSettingsFrom(raw: RawWireguard, domain: string, reverse: string[]): WgSettings | null {
  const w = raw.wireguard;
  if (!w) return null;
  const tunnelPrefixes = w.address.map(networkOf);
  const peers = w.peers.map(peerFromRaw);
  return {
    interface: w.interface,
    listenPort: w['listen-port'],
    addresses: w.address,
    privateKeyFile: w['private-key-file'],
    dns: w.dns ?? hostOf(w.address[0]),
    endpoint: w.endpoint,
    endpoints: w.endpoints ?? {},
    stateFile: w['state-file'],
    peers,
    splitAllowedIps: w['split-allowed-ips'] ?? unique([...tunnelPrefixes, ...reverse, ...peers.flatMap((p) => p.routes)]),
    mtu: w.mtu,
    downOnStop: w['down-on-stop'],
    nameSuffix: `wg.${domain}`,
  };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** Where `wg add-peer` keeps a peer's preshared key: beside the state file, mode 0600. */
export function pskFileFor(s: WgSettings, peer: string): string {
  return join(dirname(s.stateFile), `${basename(s.stateFile, '.json')}-psk`, `${peer}.psk`);
}

/** host[:port] or [v6]:port → host:port with the listen port when none is given. */
export function endpointWithPort(endpoint: string, port: number): string {
  if (/^\[.+\]:\d+$/.test(endpoint)) return endpoint;
  if (endpoint.includes(':') && !/^[^:]+:\d+$/.test(endpoint)) return `[${endpoint.replace(/^\[|\]$/g, '')}]:${port}`;
  return /:\d+$/.test(endpoint) ? endpoint : `${endpoint}:${port}`;
}

/**
 * Clients are told to ask `dns`; when that is a tunnel address no `listen` entry covers, edgedns
 * listens on the tunnel interface itself (UDP and TCP 53), as a user of any VPN-with-DNS expects.
 */
export function tunnelDnsListen(raw: RawWireguard, listen: ReadonlyArray<{ address?: string; interface?: string }>): ListenConfig | null {
  const w = raw.wireguard;
  if (!w) return null;
  const dns = w.dns ?? hostOf(w.address[0]);
  if (!w.address.some((a) => hostOf(a) === dns)) return null;
  if (listen.some((l) => l.interface === w.interface || l.address === dns)) return null;
  return { interface: w.interface, port: 53, protocols: ['udp', 'tcp'], dotPort: 853, dohPort: 443, dohPath: '/dns-query' };
}
