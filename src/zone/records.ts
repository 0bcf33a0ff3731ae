/** Records of the local zone, in dns-packet's answer shape, made from config or leases. */
import type { Answer } from 'dns-packet';
import type { RecordType } from '../config/types.js';
import { normalizeName, trimDot } from '../dns/name.js';

/** Where a served record came from: `static` (config) or a lease source such as `kea4`. */
export type RecordOrigin = 'static' | 'synthesized' | string;

export interface ZoneRecord {
  name: string;
  /** DHCID (RFC 4701) comes only from RFC 2136 updates; its value is the RDATA in base64 */
  type: RecordType | 'SOA' | 'DHCID';
  /** seconds; for records with `expires`, the most they are given */
  ttl: number;
  value: string;
  origin: RecordOrigin;
  /** epoch seconds when the record stops being true (a lease's end): TTL counts down to it */
  expires?: number;
}

/** The TTL to send now: never past `expires`, and never 0 for a record still served. */
export function ttlNow(r: ZoneRecord, nowSeconds: number): number {
  return r.expires === undefined ? r.ttl : Math.max(1, Math.min(r.ttl, Math.floor(r.expires - nowSeconds)));
}

function txtChunks(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length || i === 0; i += 255) chunks.push(bytes.subarray(i, i + 255));
  return chunks;
}

/** A record → dns-packet Answer. Values were validated when the config was loaded. */
export function toAnswer(r: ZoneRecord, nowSeconds = Date.now() / 1000): Answer {
  const base = { name: r.name, ttl: ttlNow(r, nowSeconds), class: 'IN' as const };
  switch (r.type) {
    case 'A': case 'AAAA':
      return { ...base, type: r.type, data: r.value };
    case 'CNAME': case 'NS': case 'PTR':
      return { ...base, type: r.type, data: normalizeName(r.value) };
    case 'TXT':
      return { ...base, type: 'TXT', data: txtChunks(r.value) };
    case 'MX': {
      const [pref, host] = r.value.split(/\s+/);
      return { ...base, type: 'MX', data: { preference: Number(pref), exchange: trimDot(host) } };
    }
    case 'SRV': {
      const [priority, weight, port, target] = r.value.split(/\s+/);
      return { ...base, type: 'SRV', data: { priority: Number(priority), weight: Number(weight), port: Number(port), target: trimDot(target) } };
    }
    case 'DHCID':
      return { ...base, type: 'DHCID', data: Buffer.from(r.value, 'base64') } as unknown as Answer;
    case 'SOA': {
      const [mname, rname, serial, refresh, retry, expire, minimum] = r.value.split(/\s+/);
      return {
        ...base, type: 'SOA',
        data: { mname, rname, serial: Number(serial), refresh: Number(refresh), retry: Number(retry), expire: Number(expire), minimum: Number(minimum) },
      };
    }
  }
}
