/**
 * The config file's shape, with CONFIG.md's kebab-case keys. Every key CONFIG.md documents is
 * known here (unknown keys are errors), including the sections later modules act on.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { parseDuration, parseSize } from './units.js';

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
  if (ms === null || !Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like 500ms, 5s, 1m, 1h, 1d; got "${v}"` });
    return z.NEVER;
  }
  return ms;
});
const size = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const bytes = typeof v === 'number' ? v : parseSize(v);
  if (bytes === null || bytes <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected a size like 64MB; got "${v}"` });
    return z.NEVER;
  }
  return bytes;
});
const ip = z.string().refine((s) => isIP(s) !== 0, { message: 'expected an IPv4 or IPv6 address' });
const cidr = z.string().refine((s) => { try { ipaddr.parseCIDR(s); return true; } catch { return false; } },
  { message: 'expected a prefix like 10.0.0.0/24 or fd00::/64' });
const port = z.number().int().min(1).max(65535);
const domain = z.string().min(1).regex(/^[A-Za-z0-9_.-]+\.?$/, 'expected a domain name');
const upstreamUrl = z.string().regex(/^(udp|tcp|tls|https):\/\/\S+$/, 'expected udp://, tcp://, tls:// or https:// URL');
const bandwidth = z.string().regex(/^\d+(\.\d+)?\s*(bit|kbit|mbit|gbit)$/i, 'expected a rate like 20mbit');

export const protocolSchema = z.enum(['udp', 'tcp', 'dot', 'doh']);

const listenSchema = z.strictObject({
  address: ip.optional(),
  interface: z.string().min(1).optional(),
  port: port.default(53),
  protocols: z.array(protocolSchema).min(1).default(['udp', 'tcp']),
  'dot-port': port.default(853),
  'doh-port': port.default(443),
  'doh-path': z.string().startsWith('/').default('/dns-query'),
}).refine((l) => (l.address === undefined) !== (l.interface === undefined), {
  message: 'give exactly one of address or interface',
});

const recordSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'SRV', 'PTR', 'NS']),
  value: z.union([z.string(), z.number()]).transform(String),
  ttl: duration.optional(),
});

const upstreamObject = z.strictObject({
  name: z.string().min(1).optional(),
  url: upstreamUrl,
  'tls-name': z.string().min(1).optional(),
  'tls-ca': z.string().min(1).optional(),
  bootstrap: z.array(ip).optional(),
});
const upstreamEntry = z.union([upstreamUrl, upstreamObject]);

const probeSchema = z.strictObject({
  type: z.enum(['dns', 'icmp', 'tcp', 'http']),
  target: z.string().min(1),
  interval: duration.default(1000),
  timeout: duration.default(500),
  name: z.string().optional(),
  port: port.optional(),
});

const smartQueueingSchema = z.strictObject({
  enabled: z.boolean().optional(),
  'bandwidth-up': bandwidth.optional(),
  'bandwidth-down': bandwidth.optional(),
  algorithm: z.enum(['auto', 'cake', 'fq-codel']).default('auto'),
  target: duration.default(5),
  interval: duration.default(100),
  ecn: z.boolean().default(true),
  overhead: z.number().int().min(0).max(256).optional(),
  ingress: z.boolean().default(true),
  autorate: z.strictObject({ min: bandwidth, base: bandwidth, max: bandwidth, threshold: duration.default(15) }).optional(),
  diffserv: z.enum(['besteffort', 'diffserv3', 'diffserv4']).default('besteffort'),
  classes: z.array(z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a short name: lower-case letters, digits, dashes'),
    domains: z.array(z.string().min(1)).optional(),
    sources: z.array(cidr).optional(),
    dscp: z.array(z.union([z.string(), z.number().int().min(0).max(63)])).optional(),
    rate: bandwidth,
    ceil: bandwidth.optional(),
  })).default([]),
});

const uplinkSchema = z.strictObject({
  name: z.string().min(1),
  interface: z.string().min(1),
  source: ip.optional(),
  gateway: ip.optional(),
  table: z.number().int().min(1).max(2 ** 31).optional(),
  priority: z.number().int().default(100),
  weight: z.number().int().min(1).default(1),
  probes: z.array(probeSchema).default([]),
  'min-targets-up': z.number().int().min(1).default(1),
  'down-after': z.number().int().min(1).default(3),
  'up-after': z.number().int().min(1).default(3),
  'hold-down': duration.default(10_000),
  'min-up': duration.optional(),
  'smart-queueing': smartQueueingSchema.optional(),
});

const wgPeerSchema = z.strictObject({
  name: z.string().min(1),
  'public-key': z.string().min(1),
  'preshared-key-file': z.string().optional(),
  address: z.union([cidr, z.array(cidr)]),
  mode: z.enum(['remote-access', 'site-to-site']).default('remote-access'),
  routes: z.array(cidr).default([]),
  endpoint: z.string().optional(),
  keepalive: duration.optional(),
});

export const configSchema = z.strictObject({
  listen: z.array(listenSchema).min(1).default([{ address: '127.0.0.1', port: 5353, protocols: ['udp', 'tcp'], 'dot-port': 853, 'doh-port': 443, 'doh-path': '/dns-query' }]),
  tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
  acl: z.array(z.strictObject({ from: cidr, action: z.enum(['allow', 'refuse', 'drop']) })).optional(),
  zone: z.strictObject({
    domain: domain.default('home.arpa'),
    ttl: duration.default(300_000),
    records: z.array(recordSchema).default([]),
    reverse: z.array(cidr).default([]),
  }).default({ domain: 'home.arpa', ttl: 300_000, records: [], reverse: [] }),
  cache: z.strictObject({
    size: size.default(64 * 1024 * 1024),
    'min-ttl': duration.default(0),
    'max-ttl': duration.default(86_400_000),
    'negative-ttl': duration.default(3_600_000),
    'serve-stale': z.boolean().default(true),
    prefetch: z.boolean().default(true),
  }).default({ size: 64 * 1024 * 1024, 'min-ttl': 0, 'max-ttl': 86_400_000, 'negative-ttl': 3_600_000, 'serve-stale': true, prefetch: true }),
  upstreams: z.array(upstreamEntry).min(1).optional(),
  'upstream-strategy': z.enum(['ordered', 'fastest', 'round-robin']).default('ordered'),
  'upstream-timeout': duration.default(1500),
  forward: z.array(z.strictObject({ domain, upstreams: z.array(upstreamEntry).min(1) })).default([]),
  leases: z.strictObject({
    kea4: z.string().min(1).optional(),
    kea6: z.string().min(1).optional(),
    ttl: duration.default(300_000),
    conflict: z.enum(['newest', 'first', 'static-wins-only']).default('newest'),
  }).optional(),
  uplinks: z.array(uplinkSchema).default([]),
  'multi-wan': z.strictObject({
    mode: z.enum(['failover', 'load-balance']).default('failover'),
    'apply-routes': z.boolean().default(false),
    'default-table': z.number().int().min(1).max(2 ** 31).optional(),
    'rule-priority': z.number().int().min(1).max(31_000).optional(),
    policies: z.array(z.strictObject({
      name: z.string().min(1),
      match: z.strictObject({
        domains: z.array(z.string()).optional(),
        source: z.array(cidr).optional(),
        destination: z.array(cidr).optional(),
      }),
      uplinks: z.array(z.string()).min(1),
      fallback: z.enum(['default', 'drop']).default('default'),
      grace: duration.default(300_000),
    })).default([]),
  }).optional(),
  wireguard: z.strictObject({
    interface: z.string().default('wg0'),
    'listen-port': port.default(51820),
    address: z.array(cidr).min(1),
    'private-key-file': z.string().min(1),
    dns: ip.optional(),
    endpoint: z.string().optional(),
    endpoints: z.record(z.string(), z.string()).optional(),
    'state-file': z.string().min(1).default('/var/lib/edgedns/wireguard.json'),
    peers: z.array(wgPeerSchema).default([]),
    mtu: z.number().int().min(1280).max(9000).default(1420),
    'split-allowed-ips': z.array(cidr).optional(),
    'down-on-stop': z.boolean().default(false),
  }).optional(),
  admin: z.strictObject({
    http: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):\d+$/, 'expected ADDRESS:PORT').optional(),
    socket: z.string().min(1).optional(),
    'token-file': z.string().min(1).optional(),
  }).default({ http: '127.0.0.1:9153' }),
  ddns: z.strictObject({
    // The TSIG keys; UPDATE, transfers and pushes that use them come with the DDNS work.
    keys: z.array(z.strictObject({
      name: domain,
      algorithm: z.enum(['hmac-sha256', 'hmac-sha512', 'hmac-sha1']).default('hmac-sha256'),
      'secret-file': z.string().min(1),
    })).default([]),
  }).optional(),
  cookies: z.strictObject({
    enabled: z.boolean().default(true),
    require: z.boolean().default(false),
    'secret-file': z.string().min(1).optional(),
    upstream: z.boolean().default(true),
  }).default({ enabled: true, require: false, upstream: true }),
  limits: z.strictObject({
    'tcp-idle-timeout': duration.default(10_000),
    'tcp-connections': z.number().int().min(1).max(100_000).default(1000),
  }).default({ 'tcp-idle-timeout': 10_000, 'tcp-connections': 1000 }),
  log: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    queries: z.boolean().default(false),
  }).default({ level: 'info', queries: false }),
});

export type RawConfig = z.output<typeof configSchema>;
