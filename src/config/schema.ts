/**
 * The config file's core shape, with CONFIG.md's kebab-case keys: listen, tls, acl, zone, cache,
 * upstreams, forward, admin, ddns keys, cookies, limits, log. The rooms' keys (uplinks, multi-wan,
 * wireguard, leases, and smart-queueing inside uplinks) come from their `ConfigSection`s; unknown
 * keys are errors.
 */
import { z } from 'zod';
import { cidr, domain, duration, ip, port, size, upstreamUrl } from './zod-types.js';

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

/** The core sections; the rooms' sections are added by `configSchemaWith`. */
export const coreShape = {
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
  admin: z.strictObject({
    http: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):\d+$/, 'expected ADDRESS:PORT').optional(),
    socket: z.string().min(1).optional(),
    'token-file': z.string().min(1).optional(),
    dashboard: z.boolean().default(true),
  }).default({ http: '127.0.0.1:9153', dashboard: true }),
  cookies: z.strictObject({
    enabled: z.boolean().default(true),
    require: z.boolean().default(false),
    'secret-file': z.string().min(1).optional(),
    upstream: z.boolean().default(true),
  }).default({ enabled: true, require: false, upstream: true }),
  limits: z.strictObject({
    'tcp-idle-timeout': duration.default(10_000),
    'tcp-connections': z.number().int().min(1).max(100_000).default(1000),
    // extension: the UDP socket pool per upstream (RFC 5452: ports rotate)
    'upstream-udp-sockets': z.number().int().min(1).max(1024).default(16),
    'upstream-socket-queries': z.number().int().min(1).max(65_536).default(100),
    'upstream-socket-lifetime': duration.default(10_000),
  }).default({ 'tcp-idle-timeout': 10_000, 'tcp-connections': 1000, 'upstream-udp-sockets': 16, 'upstream-socket-queries': 100, 'upstream-socket-lifetime': 10_000 }),
  log: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    queries: z.boolean().default(false),
  }).default({ level: 'info', queries: false }),
};

/** The file's whole shape: the core and the sections of the rooms (unknown keys are errors). */
export function configSchemaWith(sectionShapes: Record<string, z.ZodType>) {
  return z.strictObject({ ...coreShape, ...sectionShapes });
}

const coreSchema = z.strictObject(coreShape);
/** The core sections as validated (defaults filled in). */
export type RawConfig = z.output<typeof coreSchema>;
