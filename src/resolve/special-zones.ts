/**
 * Names that must be answered here and never forwarded: RFC 6761 special-use names, RFC 8375
 * home.arpa, RFC 7686 .onion, mDNS's .local (RFC 6762), and the RFC 6303 reverse zones of
 * private and special address space (as Unbound and BIND serve them by default).
 */
import { Buffer } from 'node:buffer';
import { RRType, Rcode } from '../dns/constants.js';
import type { ParsedQuery } from '../dns/query.js';
import { wireKeyToName } from '../dns/name.js';
import type { ZoneRecord } from '../zone/records.js';
import { encodeBody } from '../zone/local-zone.js';

export interface EmptyZone {
  apex: string;
  /** localhost: answer A 127.0.0.1 / AAAA ::1 for every name inside. */
  loopback?: boolean;
}

const RFC6303_V4 = [
  '10.in-addr.arpa', '168.192.in-addr.arpa', '254.169.in-addr.arpa', '127.in-addr.arpa', '0.in-addr.arpa',
  '2.0.192.in-addr.arpa', '100.51.198.in-addr.arpa', '113.0.203.in-addr.arpa', '255.255.255.255.in-addr.arpa',
  ...Array.from({ length: 16 }, (_, i) => `${16 + i}.172.in-addr.arpa`),
  ...Array.from({ length: 64 }, (_, i) => `${64 + i}.100.in-addr.arpa`),
];
const RFC6303_V6 = [
  'd.f.ip6.arpa', '8.e.f.ip6.arpa', '9.e.f.ip6.arpa', 'a.e.f.ip6.arpa', 'b.e.f.ip6.arpa', '8.b.d.0.1.0.0.2.ip6.arpa',
  `${'0.'.repeat(31)}0.ip6.arpa`, `1.${'0.'.repeat(31)}ip6.arpa`,
];

/** Special zones, apex names. `home.arpa` is left out when it holds the configured zone. */
export function specialZones(zoneDomain: string): EmptyZone[] {
  const zones: EmptyZone[] = [
    { apex: 'localhost', loopback: true },
    { apex: 'local' }, { apex: 'invalid' }, { apex: 'test' }, { apex: 'onion' },
    ...RFC6303_V4.map((apex) => ({ apex })), ...RFC6303_V6.map((apex) => ({ apex })),
  ];
  if (!(zoneDomain === 'home.arpa' || zoneDomain.endsWith('.home.arpa'))) zones.push({ apex: 'home.arpa' });
  return zones;
}

function soa(apex: string): ZoneRecord {
  return { name: apex, type: 'SOA', ttl: 3600, origin: 'synthesized', value: `localhost nobody.invalid 1 3600 1200 604800 10800` };
}

/** NXDOMAIN below the apex, NODATA at it (SOA answered), both with the SOA in authority. */
export function answerEmptyZone(zone: EmptyZone, q: ParsedQuery, query: Uint8Array): Buffer {
  const name = wireKeyToName(q.name);
  const AA_RA = 0x0400 | 0x0080;
  if (zone.loopback && (q.qtype === RRType.A || q.qtype === RRType.AAAA)) {
    const a: ZoneRecord = q.qtype === RRType.A
      ? { name, type: 'A', ttl: 3600, value: '127.0.0.1', origin: 'synthesized' }
      : { name, type: 'AAAA', ttl: 3600, value: '::1', origin: 'synthesized' };
    return encodeBody(query, q, AA_RA, [a], []);
  }
  if (name === zone.apex || zone.loopback) {
    if (q.qtype === RRType.SOA && name === zone.apex) return encodeBody(query, q, AA_RA, [soa(zone.apex)], []);
    return encodeBody(query, q, AA_RA, [], [soa(zone.apex)]);
  }
  return encodeBody(query, q, AA_RA | Rcode.NXDOMAIN, [], [soa(zone.apex)]);
}
