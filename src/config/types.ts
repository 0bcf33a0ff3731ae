/** The validated, typed configuration every module reads. Nobody writes it after load. */
import type { Buffer } from 'node:buffer';
import type { TsigKeyring } from '../dns/tsig.js';
import type { ConfigIssue } from './errors.js';

/** `cache:` as the packet cache uses it (seconds, bytes). */
export interface CacheOptions {
  maxBytes: number;
  minTtl: number;
  maxTtl: number;
  negativeTtl: number;
  serveStale: boolean;
  prefetch: boolean;
}

export type Protocol = 'udp' | 'tcp' | 'dot' | 'doh';
export type AclAction = 'allow' | 'refuse' | 'drop';

export interface ListenConfig {
  address?: string;
  interface?: string;
  port: number;
  protocols: Protocol[];
  dotPort: number;
  dohPort: number;
  dohPath: string;
}

export interface AclRule {
  from: string;
  action: AclAction;
}

export type RecordType = 'A' | 'AAAA' | 'CNAME' | 'TXT' | 'MX' | 'SRV' | 'PTR' | 'NS';

export interface StaticRecord {
  /** Absolute, normalized (lower case, no trailing dot). */
  name: string;
  type: RecordType;
  value: string;
  /** seconds */
  ttl: number;
}

export interface ZoneConfig {
  domain: string;
  /** seconds */
  ttl: number;
  records: StaticRecord[];
  reverse: string[];
}

export type UpstreamProtocol = 'udp' | 'tcp' | 'tls' | 'https';

export interface UpstreamConfig {
  name: string;
  url: string;
  protocol: UpstreamProtocol;
  host: string;
  port: number;
  /** DoH only */
  path: string;
  tlsName?: string;
  tlsCa?: string;
  bootstrap: string[];
}

export interface ForwardRule {
  domain: string;
  upstreams: UpstreamConfig[];
}

export type UpstreamStrategy = 'ordered' | 'fastest' | 'round-robin';

export interface Config {
  /** The file it came from, or "<embedded default>". */
  source: string;
  listen: ListenConfig[];
  tls?: { cert: string; key: string };
  /** Empty: the default LAN-only policy applies. */
  acl: AclRule[];
  zone: ZoneConfig;
  cache: CacheOptions;
  upstreams: UpstreamConfig[];
  upstreamStrategy: UpstreamStrategy;
  upstreamTimeoutMs: number;
  forward: ForwardRule[];
  admin: { http?: string; socket?: string; tokenFile?: string; dashboard: boolean };
  /** Per stream listener (TCP, DoT): idle timeout and connection cap. */
  limits: { tcpIdleMs: number; tcpConnections: number; udpPool: UdpPoolLimits };
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error'; queries: boolean };
  /** `ddns.keys`, secrets read: signed queries are checked and answered signed. */
  tsigKeys: TsigKeyring;
  /** RFC 7873 cookies: answered to clients, sent to plain-UDP upstreams. */
  cookies: { enabled: boolean; require: boolean; upstream: boolean; secret?: Buffer };
  /** Things that load but may not do what was meant (e.g. overlapping policy sources). */
  warnings: ConfigIssue[];
  /** The rooms' sections, built by their own `ConfigSection` (read them with `sectionOf`). */
  sections: ReadonlyMap<string, unknown>;
}

/** `limits.upstream-*`: the UDP socket pool of each plain-DNS upstream. */
export interface UdpPoolLimits {
  /** sockets open at once per upstream */
  sockets: number;
  /** a socket is retired after this many queries ... */
  queriesPerSocket: number;
  /** ... or this many ms */
  socketLifetimeMs: number;
}
