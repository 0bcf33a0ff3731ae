/**
 * The DDNS room's part of the config file: `ddns:` (CONFIG.md, "Keys being added"). The keys'
 * secrets are read by the core config (signed queries use them too); this section checks that
 * every rule names a key that exists and builds the room's typed settings.
 */
import { z } from 'zod';
import type { ConfigSection } from '../config/section.js';
import { DDNS } from './ddns-key.js';
import type { PathIssue } from '../config/validate.js';
import { cidr, domain } from '../config/zod-types.js';
import { normalizeName } from '../dns/name.js';
import { typeNumber } from '../dns/type-names.js';

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[0-9.]+|[0-9a-fA-F:]+)(:\d+)?$/, 'expected ADDRESS or ADDRESS:PORT');
const prefixes = z.union([cidr, z.array(cidr).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));
const TYPES_BY_DEFAULT = ['A', 'AAAA', 'PTR', 'DHCID', 'TXT'];

export const ddnsSchema = z.strictObject({
  keys: z.array(z.strictObject({
    name: domain,
    algorithm: z.enum(['hmac-sha256', 'hmac-sha512', 'hmac-sha1']).default('hmac-sha256'),
    'secret-file': z.string().min(1),
  })).default([]),
  accept: z.array(z.strictObject({
    key: domain.optional(),
    from: prefixes.optional(),
    names: z.array(z.string().regex(/^(\*|(\*\.)?[A-Za-z0-9_.-]+\.?)$/, 'expected a name, *.name or *')).min(1),
    types: z.array(z.string()).min(1).default(TYPES_BY_DEFAULT),
  })).default([]),
  journal: z.string().min(1).default('/var/lib/edgedns/ddns.journal'),
  push: z.array(z.strictObject({
    server: hostPort,
    zone: domain,
    key: domain.optional(),
    // extension: reverse zones the primary also holds; lease PTRs in them are pushed too
    'reverse-zones': z.array(domain).default([]),
  })).default([]),
  transfer: z.strictObject({
    allow: z.array(z.strictObject({ key: domain.optional(), from: prefixes.optional() })).default([]),
    notify: z.array(hostPort).default([]),
  }).default({ allow: [], notify: [] }),
});

export interface AcceptRule {
  /** the TSIG key that must have signed the UPDATE; undefined: any, or none */
  key?: string;
  /** the prefixes the UPDATE must come from; undefined: anywhere */
  from?: string[];
  /** "name", "*.name" (its descendants) or "*" */
  names: string[];
  types: number[];
}

export interface PushTarget {
  address: string;
  port: number;
  zone: string;
  key?: string;
  reverseZones: string[];
}

export interface DdnsConfig {
  accept: AcceptRule[];
  journal: string;
  push: PushTarget[];
  transfer: { allow: Array<{ key?: string; from?: string[] }>; notify: Array<{ address: string; port: number }> };
}

export { DDNS };

type RawDdns = { ddns?: z.output<typeof ddnsSchema> };

/** "192.0.2.53", "192.0.2.53:5300", "[fd00::53]:53", "fd00::53" → address and port. */
export function splitHostPort(s: string, dflt = 53): { address: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) return { address: v6[1], port: v6[2] ? Number(v6[2]) : dflt };
  if ((s.match(/:/g) ?? []).length > 1) return { address: s, port: dflt };
  const [a, p] = s.split(':');
  return { address: a, port: p ? Number(p) : dflt };
}

function check(raw: RawDdns): PathIssue[] {
  const d = raw.ddns;
  if (!d) return [];
  const issues: PathIssue[] = [];
  const keys = new Set(d.keys.map((k) => normalizeName(k.name)));
  const known = (path: (string | number)[], key: string | undefined) => {
    if (key !== undefined && !keys.has(normalizeName(key))) issues.push({ path, message: `no key "${key}" in ddns.keys` });
  };
  d.accept.forEach((r, i) => {
    known(['ddns', 'accept', i, 'key'], r.key);
    if (r.key === undefined && r.from === undefined) issues.push({ path: ['ddns', 'accept', i], message: 'a rule needs a key or a from prefix' });
    r.types.forEach((t, j) => {
      const n = typeNumber(t);
      if (n === undefined || ['SOA', 'NS', 'ANY', 'AXFR', 'IXFR', 'TSIG', 'OPT'].includes(t.toUpperCase())) {
        issues.push({ path: ['ddns', 'accept', i, 'types', j], message: `"${t}" cannot be updated (A, AAAA, PTR, DHCID, TXT, CNAME, MX, SRV can)` });
      }
    });
  });
  d.push.forEach((p, i) => known(['ddns', 'push', i, 'key'], p.key));
  d.transfer.allow.forEach((a, i) => {
    known(['ddns', 'transfer', 'allow', i, 'key'], a.key);
    if (a.key === undefined && a.from === undefined) issues.push({ path: ['ddns', 'transfer', 'allow', i], message: 'needs a key or a from prefix' });
  });
  return issues;
}

export const ddnsSection: ConfigSection<DdnsConfig | null> = {
  name: DDNS.name,
  shape: { ddns: ddnsSchema.optional() },
  check: (ctx) => ({ errors: check(ctx.raw as RawDdns) }),
  build(ctx) {
    const d = (ctx.raw as RawDdns).ddns;
    if (!d || (d.accept.length === 0 && d.push.length === 0 && d.transfer.allow.length === 0 && d.transfer.notify.length === 0)) return null;
    return {
      accept: d.accept.map((r) => ({
        key: r.key === undefined ? undefined : normalizeName(r.key),
        from: r.from,
        names: r.names.map((n) => normalizeName(n)),
        types: r.types.map((t) => typeNumber(t)!),
      })),
      journal: d.journal,
      push: d.push.map((p) => ({ ...splitHostPort(p.server), zone: normalizeName(p.zone), key: p.key === undefined ? undefined : normalizeName(p.key), reverseZones: p['reverse-zones'].map((z) => normalizeName(z)) })),
      transfer: {
        allow: d.transfer.allow.map((a) => ({ key: a.key === undefined ? undefined : normalizeName(a.key), from: a.from })),
        notify: d.transfer.notify.map((n) => splitHostPort(n)),
      },
    };
  },
};
