/**
 * Scanning an upstream response by offset: validates its structure, finds every TTL, reads the
 * negative-caching TTL from the SOA (RFC 2308) and produces a body with the OPT record removed,
 * ready for the packet cache. Runs once per upstream answer, on the miss path: one allocation
 * for the body and its TTL offsets, none for the walk.
 */
import { Buffer } from 'node:buffer';
import { HEADER_SIZE, RRType } from './constants.js';
import { skipName } from './name.js';
import type { PackedAnswer } from './reply.js';
import { copyBytes, put16, u16, u32 } from './bytes.js';

/**
 * A checked upstream response: the packed answer (body and TTL offsets in one buffer) and what
 * the cache needs to know of it. Everything reads the packed bytes: no view of the body is made.
 */
export class ScannedResponse {
  constructor(
    /** Full rcode, including the extended bits from OPT. */
    readonly rcode: number,
    readonly truncated: boolean,
    /** The response without OPT (header counts adjusted), then two bytes per TTL field giving its offset: what the packet cache stores. */
    readonly packed: PackedAnswer,
    /** Indexes (into the TTL offsets) of SOA TTLs in the authority section (negative answers). */
    readonly soaIndexes: number[],
    /** RFC 2308: min(SOA TTL, SOA MINIMUM) of the first authority SOA, or -1. */
    readonly negativeTtl: number,
    readonly answerCount: number,
  ) {}

  /** Offset in `packed.bytes` of TTL field `i`. */
  ttlAt(i: number): number {
    return this.packed.start + u16(this.packed.bytes, this.packed.start + this.packed.bodyLen + 2 * i);
  }
}

/** Offset just past the question at offset 12 (name, type, class), or -1 if malformed or compressed. */
export function questionEnd(buf: Uint8Array): number {
  let off = HEADER_SIZE;
  for (;;) {
    if (off >= buf.length) return -1;
    const l = buf[off];
    if (l === 0) break;
    if (l > 63 || off + 1 + l > buf.length) return -1;
    off += 1 + l;
  }
  return off + 5 > buf.length ? -1 : off + 5;
}

const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);

/** Do two messages carry the same question (name case-insensitive, type, class)? No allocation: it runs per upstream answer. */
export function sameQuestion(a: Uint8Array, b: Uint8Array): boolean {
  const end = questionEnd(a);
  if (end < 0 || end > b.length) return false;
  // Length bytes are below 0x41, so folding leaves them alone: equal up to there, b's name has a's labels.
  for (let i = HEADER_SIZE; i < end - 4; i++) if (a[i] !== b[i] && lower(a[i]) !== lower(b[i])) return false;
  for (let i = end - 4; i < end; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Per-scan scratch (a message of 64 KB holds fewer than 6,000 records): kept ranges and TTL offsets. */
const MAX_RRS = 6000;
const keepFrom = new Int32Array(MAX_RRS + 1);
const keepTo = new Int32Array(MAX_RRS + 1);
const ttlAt = new Int32Array(MAX_RRS);
const NO_SOA: number[] = [];

export function scanResponse(buf: Buffer): ScannedResponse | null {
  if (buf.length < HEADER_SIZE || (buf[2] & 0x80) === 0) return null;
  const qd = u16(buf, 4);
  if (qd !== 1) return null;
  const qEnd = questionEnd(buf);
  if (qEnd < 0) return null;
  const an = u16(buf, 6);
  const ns = u16(buf, 8);
  const ar = u16(buf, 10);
  if (an + ns + ar > MAX_RRS) return null; // cannot fit in a message: it lies about its counts
  let off = qEnd;
  let kept = 1;
  keepFrom[0] = 0;
  keepTo[0] = qEnd;
  let ttlCount = 0;
  let soaIndexes = NO_SOA;
  let negativeTtl = -1;
  let extRcode = 0;
  let removed = 0;
  let bodyPos = qEnd; // where the next kept byte lands in the body
  for (let i = 0; i < an + ns + ar; i++) {
    const start = off;
    const nameEnd = skipName(buf, off);
    if (nameEnd < 0 || nameEnd + 10 > buf.length) return null;
    const type = (buf[nameEnd] << 8) | buf[nameEnd + 1];
    const rdlen = (buf[nameEnd + 8] << 8) | buf[nameEnd + 9];
    const end = nameEnd + 10 + rdlen;
    if (end > buf.length) return null;
    off = end;
    if (type === RRType.OPT && i >= an + ns) {
      extRcode = buf[nameEnd + 4];
      removed++;
      continue;
    }
    if (keepTo[kept - 1] === start) keepTo[kept - 1] = end; // adjacent to the last kept range: one copy
    else {
      keepFrom[kept] = start;
      keepTo[kept++] = end;
    }
    ttlAt[ttlCount++] = bodyPos + (nameEnd - start) + 4;
    if (type === RRType.SOA && i >= an && i < an + ns) {
      if (soaIndexes === NO_SOA) soaIndexes = [];
      soaIndexes.push(ttlCount - 1);
      if (negativeTtl < 0) {
        const ttl = u32(buf, nameEnd + 4);
        negativeTtl = Math.min(ttl > 0x7fffffff ? 0 : ttl, u32(buf, end - 4));
      }
    }
    bodyPos += end - start;
  }
  const bodyLen = bodyPos;
  const bytes = Buffer.allocUnsafe(bodyLen + ttlCount * 2);
  let to = 0;
  for (let k = 0; k < kept; k++) {
    copyBytes(buf, keepFrom[k], keepTo[k], bytes, to);
    to += keepTo[k] - keepFrom[k];
  }
  if (removed > 0) put16(bytes, 10, ar - removed);
  for (let i = 0; i < ttlCount; i++) {
    const at = ttlAt[i];
    // RFC 2181 §8: a TTL with the top bit set means 0.
    if (bytes[at] & 0x80) bytes[at] = bytes[at + 1] = bytes[at + 2] = bytes[at + 3] = 0;
    bytes[bodyLen + i * 2] = at >> 8;
    bytes[bodyLen + i * 2 + 1] = at & 0xff;
  }
  const packed: PackedAnswer = { bytes, start: 0, end: bytes.length, bodyLen };
  return new ScannedResponse((extRcode << 4) | (buf[3] & 0x0f), (buf[2] & 0x02) !== 0, packed, soaIndexes, negativeTtl, an);
}
