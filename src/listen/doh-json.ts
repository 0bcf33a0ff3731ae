/**
 * The JSON form of DNS over HTTPS that Google and Cloudflare serve (`?name=&type=` with
 * `Accept: application/dns-json`), for scripts and fetch(). Off the hot path: dns-packet
 * builds the query and reads the answer.
 */
import { Buffer } from 'node:buffer';
import { dnsPacket } from '../cjs.js';
import { typeName, typeNumber } from '../dns/type-names.js';


/** The wire query for `?name=&type=&do=&cd=`, or an error message for a 400. */
export function jsonQuery(params: URLSearchParams): Buffer | string {
  const name = params.get('name');
  if (!name || name.length > 253 || !/^[A-Za-z0-9_.*-]+\.?$/.test(name)) return 'missing or bad name';
  const typeParam = (params.get('type') ?? 'A').toUpperCase();
  const type = /^\d+$/.test(typeParam) ? Number(typeParam) : typeNumber(typeParam);
  if (type === undefined || type < 1 || type > 65535) return `unknown type ${typeParam}`;
  const flag = (k: string) => ['1', 'true'].includes(params.get(k) ?? '');
  try {
    return dnsPacket.encode({
      type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED | (flag('cd') ? dnsPacket.CHECKING_DISABLED : 0),
      questions: [{ name: name.replace(/\.$/, ''), type: typeName(type) as 'A' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: flag('do') ? dnsPacket.DNSSEC_OK : 0 } as never],
    });
  } catch (e) {
    return (e as Error).message;
  }
}

function fqdn(n: string): string {
  return n.endsWith('.') ? n : `${n}.`;
}

function dataText(type: string, data: unknown): string {
  switch (type) {
    case 'CNAME': case 'NS': case 'PTR': case 'DNAME': return fqdn(String(data));
    case 'MX': { const d = data as { preference: number; exchange: string }; return `${d.preference} ${fqdn(d.exchange)}`; }
    case 'SRV': { const d = data as { priority: number; weight: number; port: number; target: string }; return `${d.priority} ${d.weight} ${d.port} ${fqdn(d.target)}`; }
    case 'SOA': {
      const d = data as { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
      return `${fqdn(d.mname)} ${fqdn(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    }
    case 'TXT': return (data as Buffer[]).map((b) => JSON.stringify(b.toString())).join(' ');
    case 'HINFO': { const d = data as { cpu: string; os: string }; return `"${d.cpu}" "${d.os}"`; }
    default: return Buffer.isBuffer(data) ? `\\# ${data.length} ${data.toString('hex')}` : String(data);
  }
}

/** A wire answer → the JSON object Google's and Cloudflare's resolvers return. */
export function jsonAnswer(reply: Buffer): object {
  const p = dnsPacket.decode(reply) as dnsPacket.Packet & { flag_tc?: boolean; flag_rd?: boolean; flag_ra?: boolean; flag_ad?: boolean; flag_cd?: boolean };
  const rr = (list: dnsPacket.Answer[] | undefined) => (list ?? []).filter((a) => a.type !== 'OPT').map((a) => {
    const r = a as { name: string; type: string; ttl?: number; data?: unknown };
    return { name: fqdn(r.name), type: typeNumber(String(r.type)) ?? 0, TTL: r.ttl ?? 0, data: dataText(r.type, r.data) };
  });
  const out: Record<string, unknown> = {
    Status: reply[3] & 0x0f, TC: !!p.flag_tc, RD: !!p.flag_rd, RA: !!p.flag_ra, AD: !!p.flag_ad, CD: !!p.flag_cd,
    Question: (p.questions ?? []).map((q) => ({ name: fqdn(q.name), type: typeNumber(q.type) ?? 0 })),
  };
  const answer = rr(p.answers);
  const authority = rr(p.authorities);
  if (answer.length) out.Answer = answer;
  if (authority.length) out.Authority = authority;
  return out;
}
