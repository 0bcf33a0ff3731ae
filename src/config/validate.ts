/**
 * Checks the schema cannot express (record values by type, TLS needed by dot/doh listeners,
 * upstream URLs) and the step from the raw file shape to the typed `Config`.
 */
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import type { TsigKey } from '../dns/tsig.js';
import { normalizeName, qualify } from '../dns/name.js';
import { DEFAULT_UPSTREAMS } from './default-config.js';
import type { ConfigSection, SectionContext } from './section.js';
import type { RawConfig } from './schema.js';
import type { Config, ListenConfig, StaticRecord, UpstreamConfig, UpstreamProtocol } from './types.js';

export interface PathIssue {
  path: Array<string | number>;
  message: string;
}

const DEFAULT_PORTS: Record<UpstreamProtocol, number> = { udp: 53, tcp: 53, tls: 853, https: 443 };
const HOSTNAME = /^[A-Za-z0-9_.-]+$/;

type UpstreamInput = string | { name?: string; url: string; 'tls-name'?: string; 'tls-ca'?: string; bootstrap?: string[] };

export function parseUpstream(input: UpstreamInput): UpstreamConfig | string {
  const o = typeof input === 'string' ? { url: input } : input;
  let u: URL;
  try {
    u = new URL(o.url);
  } catch {
    return `not a valid URL: ${o.url}`;
  }
  const protocol = u.protocol.slice(0, -1) as UpstreamProtocol;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!isIPv4(host) && !isIPv6(host)) {
    if (protocol === 'udp' || protocol === 'tcp') return `plain ${protocol}:// upstreams need an IP address, not "${host}"`;
    if (!HOSTNAME.test(host)) return `bad host "${host}"`;
    if (!o.bootstrap?.length) return `host "${host}" needs bootstrap addresses, so its name never goes to the system resolver`;
  }
  return {
    name: o.name ?? o.url,
    url: o.url,
    protocol,
    host,
    port: u.port ? Number(u.port) : DEFAULT_PORTS[protocol],
    path: protocol === 'https' ? (u.pathname === '/' ? '/dns-query' : u.pathname) + u.search : '',
    tlsName: o['tls-name'] ?? (isIPv4(host) || isIPv6(host) ? undefined : host),
    tlsCa: o['tls-ca'],
    bootstrap: o.bootstrap ?? [],
  };
}

const INT = /^\d+$/;

function checkRecordValue(type: string, value: string): string | null {
  switch (type) {
    case 'A': return isIPv4(value) ? null : 'an A record needs an IPv4 address';
    case 'AAAA': return isIPv6(value) ? null : 'an AAAA record needs an IPv6 address';
    case 'CNAME': case 'NS': case 'PTR': return HOSTNAME.test(value) ? null : 'expected a domain name';
    case 'MX': {
      const [pref, host, extra] = value.split(/\s+/);
      return INT.test(pref ?? '') && host && HOSTNAME.test(host) && extra === undefined ? null : 'expected "PREFERENCE HOST"';
    }
    case 'SRV': {
      const p = value.split(/\s+/);
      return p.length === 4 && p.slice(0, 3).every((x) => INT.test(x) && Number(x) < 65536) && HOSTNAME.test(p[3])
        ? null : 'expected "PRIORITY WEIGHT PORT TARGET"';
    }
    default: return null;
  }
}

/**
 * The typed `Config` from the validated file: the core sections here, each room's section by
 * its own check and build. `hints`: facts the file cannot say (the kernel's qdiscs).
 */
export function buildConfig(
  raw: RawConfig, source: string, sections: ReadonlyArray<ConfigSection<unknown>> = [], hints: Record<string, unknown> = {},
): { config?: Config; issues: PathIssue[]; warnings: PathIssue[] } {
  const issues: PathIssue[] = [];
  const domain = normalizeName(raw.zone.domain);
  const zoneTtl = Math.round(raw.zone.ttl / 1000);

  const records: StaticRecord[] = [];
  raw.zone.records.forEach((r, i) => {
    const err = checkRecordValue(r.type, r.value);
    if (err) issues.push({ path: ['zone', 'records', i, 'value'], message: err });
    let name: string;
    try {
      name = qualify(r.name, domain);
    } catch {
      issues.push({ path: ['zone', 'records', i, 'name'], message: 'bad name' });
      return;
    }
    records.push({ name, type: r.type, value: r.value, ttl: r.ttl === undefined ? zoneTtl : Math.round(r.ttl / 1000) });
  });

  const ctx: SectionContext = { raw: raw as unknown as Record<string, unknown>, zoneDomain: domain, zoneReverse: raw.zone.reverse, listen: raw.listen, hints };
  const listen: ListenConfig[] = [...raw.listen.map((l) => ({
    address: l.address, interface: l.interface, port: l.port, protocols: [...new Set(l.protocols)],
    dotPort: l['dot-port'], dohPort: l['doh-port'], dohPath: l['doh-path'],
  })), ...sections.flatMap((s) => s.listen?.(ctx) ?? [])];
  listen.forEach((l, i) => {
    if ((l.protocols.includes('dot') || l.protocols.includes('doh')) && !raw.tls) {
      issues.push({ path: ['listen', i, 'protocols'], message: 'dot and doh need a tls section with cert and key' });
    }
  });

  const upstreamInputs = (raw.upstreams ?? DEFAULT_UPSTREAMS) as UpstreamInput[];
  const upstreams: UpstreamConfig[] = [];
  upstreamInputs.forEach((u, i) => {
    const parsed = parseUpstream(u);
    if (typeof parsed === 'string') issues.push({ path: ['upstreams', i, ...(typeof u === 'string' ? [] : ['url'])], message: parsed });
    else upstreams.push(parsed);
  });
  const forward = raw.forward.map((f, i) => ({
    domain: normalizeName(f.domain),
    upstreams: f.upstreams.flatMap((u, j) => {
      const parsed = parseUpstream(u as UpstreamInput);
      if (typeof parsed === 'string') {
        issues.push({ path: ['forward', i, 'upstreams', j], message: parsed });
        return [];
      }
      return [parsed];
    }),
  }));
  const warnings: PathIssue[] = [];
  for (const s of sections) {
    const r = s.check?.(ctx);
    if (r === undefined) continue;
    issues.push(...r.errors);
    warnings.push(...(r.warnings ?? []));
  }
  const tsigKeys = new Map<string, TsigKey>();
  // `ddns:` belongs to the DDNS room's section; its key secrets are read here, for signed queries too.
  const ddnsKeys = (raw as { ddns?: { keys: Array<{ name: string; algorithm: TsigKey['algorithm']; 'secret-file': string }> } }).ddns?.keys ?? [];
  ddnsKeys.forEach((k, i) => {
    const name = normalizeName(k.name);
    if (tsigKeys.has(name)) issues.push({ path: ['ddns', 'keys', i, 'name'], message: `key "${name}" is defined twice` });
    const secret = readSecret(k['secret-file'], 'base64');
    if (typeof secret === 'string') issues.push({ path: ['ddns', 'keys', i, 'secret-file'], message: secret });
    else tsigKeys.set(name, { name, algorithm: k.algorithm, secret });
  });
  let cookieSecret: Buffer | undefined;
  if (raw.cookies['secret-file'] !== undefined) {
    const s = readSecret(raw.cookies['secret-file'], 'hex');
    if (typeof s === 'string' || s.length !== 16) {
      issues.push({ path: ['cookies', 'secret-file'], message: typeof s === 'string' ? s : 'expected 32 hex digits (16 bytes)' });
    } else cookieSecret = s;
  }
  if (raw.cache['min-ttl'] > raw.cache['max-ttl']) {
    issues.push({ path: ['cache', 'min-ttl'], message: 'min-ttl is larger than max-ttl' });
  }
  if (issues.length > 0) return { issues, warnings };

  return {
    issues,
    warnings,
    config: {
      source,
      listen,
      tls: raw.tls,
      acl: raw.acl ?? [],
      zone: { domain, ttl: zoneTtl, records, reverse: raw.zone.reverse },
      cache: {
        maxBytes: raw.cache.size,
        minTtl: Math.round(raw.cache['min-ttl'] / 1000),
        maxTtl: Math.round(raw.cache['max-ttl'] / 1000),
        negativeTtl: Math.round(raw.cache['negative-ttl'] / 1000),
        serveStale: raw.cache['serve-stale'],
        prefetch: raw.cache.prefetch,
      },
      upstreams,
      upstreamStrategy: raw['upstream-strategy'],
      upstreamTimeoutMs: raw['upstream-timeout'],
      forward,
      admin: { http: raw.admin.http, socket: raw.admin.socket, tokenFile: raw.admin['token-file'], dashboard: raw.admin.dashboard },
      limits: {
        tcpIdleMs: raw.limits['tcp-idle-timeout'], tcpConnections: raw.limits['tcp-connections'],
        udpPool: { sockets: raw.limits['upstream-udp-sockets'], queriesPerSocket: raw.limits['upstream-socket-queries'], socketLifetimeMs: raw.limits['upstream-socket-lifetime'] },
      },
      log: raw.log,
      tsigKeys,
      cookies: { enabled: raw.cookies.enabled, require: raw.cookies.require, upstream: raw.cookies.upstream, secret: cookieSecret },
      warnings: [],
      sections: new Map(sections.map((s) => [s.name, s.build(ctx)])),
    },
  };
}

/** A secret from its file (base64 as `ddns keygen` prints it, or hex), or why not. */
function readSecret(file: string, encoding: 'base64' | 'hex'): Buffer | string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    return `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
  const ok = encoding === 'base64' ? /^[A-Za-z0-9+/]+={0,2}$/.test(text) : /^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0;
  if (!ok || text.length === 0) return `${file} does not hold a ${encoding} secret`;
  return Buffer.from(text, encoding);
}
