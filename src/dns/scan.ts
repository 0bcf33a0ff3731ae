/**
 * Scanning an upstream response by offset: validates its structure, finds every TTL, reads the
 * negative-caching TTL from the SOA (RFC 2308) and produces a body with the OPT record removed,
 * ready for the packet cache. Runs once per upstream answer, off the hot path.
 */
import { Buffer } from 'node:buffer';
import { HEADER_SIZE, RRType } from './constants.js';
import { skipName } from './name.js';

export interface ScannedResponse {
  /** Full rcode, including the extended bits from OPT. */
  rcode: number;
  truncated: boolean;
  /** Response without OPT; header counts adjusted. */
  body: Buffer;
  /** Offsets (in `body`) of every TTL field, and their values. */
  ttlOffsets: Uint16Array;
  /** The TTL values, as read (a set top bit already turned into 0). */
  ttls: Uint32Array;
  /** Offsets in `body` of SOA TTLs in the authority section (negative answers). */
  soaIndexes: number[];
  /** RFC 2308: min(SOA TTL, SOA MINIMUM) of the first authority SOA, or -1. */
  negativeTtl: number;
  answerCount: number;
  /** Lower-case question (wire name + type + class) as latin1, for matching. */
  questionKey: string;
}

/** Lower-case wire question (name, type, class) at offset 12 as latin1; null if malformed or compressed. */
export function questionKey(buf: Uint8Array): { key: string; end: number } | null {
  let off = HEADER_SIZE;
  const bytes: number[] = [];
  for (;;) {
    if (off >= buf.length) return null;
    const l = buf[off];
    if (l === 0) { bytes.push(0); off++; break; }
    if (l > 63 || off + 1 + l > buf.length) return null;
    bytes.push(l);
    for (let i = 1; i <= l; i++) {
      const c = buf[off + i];
      bytes.push(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
    }
    off += 1 + l;
  }
  if (off + 4 > buf.length) return null;
  for (let i = 0; i < 4; i++) bytes.push(buf[off + i]);
  return { key: Buffer.from(bytes).toString('latin1'), end: off + 4 };
}

export function scanResponse(buf: Buffer): ScannedResponse | null {
  if (buf.length < HEADER_SIZE || (buf[2] & 0x80) === 0) return null;
  const qd = buf.readUInt16BE(4);
  if (qd !== 1) return null;
  const q = questionKey(buf);
  if (q === null) return null;
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  let off = q.end;
  const keep: Array<[number, number]> = [[0, q.end]];
  const ttlOffsets: number[] = [];
  const ttls: number[] = [];
  const soaIndexes: number[] = [];
  let negativeTtl = -1;
  let extRcode = 0;
  let removed = 0;
  let bodyPos = q.end; // where the next kept byte lands in the body
  for (let i = 0; i < an + ns + ar; i++) {
    const start = off;
    const nameEnd = skipName(buf, off);
    if (nameEnd < 0 || nameEnd + 10 > buf.length) return null;
    const type = buf.readUInt16BE(nameEnd);
    const ttl = buf.readUInt32BE(nameEnd + 4);
    const rdlen = buf.readUInt16BE(nameEnd + 8);
    const end = nameEnd + 10 + rdlen;
    if (end > buf.length) return null;
    off = end;
    if (type === RRType.OPT && i >= an + ns) {
      extRcode = buf[nameEnd + 4];
      removed++;
      continue;
    }
    keep.push([start, end]);
    ttlOffsets.push(bodyPos + (nameEnd - start) + 4);
    ttls.push(ttl > 0x7fffffff ? 0 : ttl); // RFC 2181 §8: a TTL with the top bit set means 0
    if (type === RRType.SOA && i >= an && i < an + ns) {
      soaIndexes.push(ttls.length - 1);
      if (negativeTtl < 0) {
        const minimum = buf.readUInt32BE(end - 4);
        negativeTtl = Math.min(ttls[ttls.length - 1], minimum);
      }
    }
    bodyPos += end - start;
  }
  let body: Buffer;
  if (removed === 0 && off === buf.length) {
    body = Buffer.from(buf);
  } else {
    body = Buffer.concat(keep.map(([s, e]) => buf.subarray(s, e)));
    body.writeUInt16BE(ar - removed, 10);
  }
  return {
    rcode: (extRcode << 4) | (buf[3] & 0x0f),
    truncated: (buf[2] & 0x02) !== 0,
    body,
    ttlOffsets: Uint16Array.from(ttlOffsets),
    ttls: Uint32Array.from(ttls),
    soaIndexes,
    negativeTtl,
    answerCount: an,
    questionKey: q.key,
  };
}
