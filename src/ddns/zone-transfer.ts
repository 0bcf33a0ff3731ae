/**
 * AXFR (RFC 5936) and IXFR (RFC 1995) of one local zone, as DNS messages for a stream: the
 * first carries the question, each holds records up to about 16 KB. IXFR sends the condensed
 * difference since the client's serial when the history reaches back that far, the single SOA
 * when the client is current, and the whole zone otherwise (RFC 1995 §4).
 */
import { Buffer } from 'node:buffer';
import { dnsPacket } from '../cjs.js';
import { HEADER_SIZE, RRType } from '../dns/constants.js';
import { readName } from '../dns/records.js';
import { skipName } from '../dns/name.js';
import type { ParsedQuery } from '../dns/query.js';
import { toAnswer, type ZoneRecord } from '../zone/records.js';

const MESSAGE_BYTES = 16_000;

/** The serial of the SOA in an IXFR query's authority section; null when there is none. */
export function ixfrSerial(query: Buffer, q: ParsedQuery): number | null {
  if (query.readUInt16BE(8) < 1) return null;
  let off = q.questionEnd;
  for (let i = query.readUInt16BE(6); i > 0; i--) { // answers (none expected): skip
    off = skipName(query, off);
    if (off < 0 || off + 10 > query.length) return null;
    off += 10 + query.readUInt16BE(off + 8);
  }
  const owner = readName(query, off);
  if (owner === null || owner.end + 10 > query.length || query.readUInt16BE(owner.end) !== RRType.SOA) return null;
  const rd = owner.end + 10;
  const m = readName(query, rd);
  const r = m === null ? null : readName(query, m.end);
  if (r === null || r.end + 4 > query.length) return null;
  return query.readUInt32BE(r.end);
}

/** The SOA with another serial (the "old" SOA of an IXFR diff). */
export function withSerial(soa: ZoneRecord, serial: number): ZoneRecord {
  const parts = soa.value.split(' ');
  parts[2] = String(serial);
  return { ...soa, value: parts.join(' ') };
}

export function soaSerial(soa: ZoneRecord): number {
  return Number(soa.value.split(' ')[2]);
}

/** RFC 1982: is `a` newer than or equal to `b`? */
export function serialAtLeast(a: number, b: number): boolean {
  return a === b || ((a - b) >>> 0) < 2 ** 31;
}

/** Records → the transfer's messages (AA, the query's ID; the question in the first only). */
export function transferMessages(query: Buffer, q: ParsedQuery, records: ZoneRecord[], nowSeconds: number): Buffer[] {
  const question = query.subarray(HEADER_SIZE, q.questionEnd);
  const out: Buffer[] = [];
  let parts: Buffer[] = [];
  let bytes = 0;
  const close = () => {
    const head = Buffer.alloc(HEADER_SIZE);
    head.writeUInt16BE(q.id, 0);
    head[2] = 0x84; // QR, AA
    const first = out.length === 0;
    head.writeUInt16BE(first ? 1 : 0, 4);
    head.writeUInt16BE(parts.length, 6);
    out.push(Buffer.concat([head, ...(first ? [question] : []), ...parts]));
    parts = [];
    bytes = 0;
  };
  for (const r of records) {
    const wire = (dnsPacket as unknown as { answer: { encode(a: object): Buffer } }).answer.encode(toAnswer(r, nowSeconds));
    if (bytes + wire.length > MESSAGE_BYTES && parts.length > 0) close();
    parts.push(wire);
    bytes += wire.length;
  }
  if (parts.length > 0 || out.length === 0) close();
  return out;
}
