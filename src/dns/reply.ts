/**
 * Turning a stored response body into the bytes one client gets. A body is a complete response
 * without an OPT record; here we write the client's ID, RD and CD bits, RA (we are a recursive
 * service, RFC 1035 §4.1.1) and question-name case, age the TTLs, append our OPT when the client
 * used EDNS, and make it fit (RFC 2181 §9: additional records go first, then authority records
 * a positive answer does not need; TC only when the answer itself does not fit).
 * The fitting path runs only for oversized answers: the common case is one allocation, no decoding.
 */
import { Buffer } from 'node:buffer';
import { EDNS_UDP_SIZE, HEADER_SIZE, OPT_COOKIE, OPT_PADDING, RRType } from './constants.js';
import { skipName } from './name.js';
import type { ParsedQuery } from './query.js';
import { copyBytes, put16, put32, u16, u32 } from './bytes.js';

/**
 * A stored answer: bytes[start, start + bodyLen) is the response body (a complete response
 * without OPT), followed up to `end` by two bytes per TTL field giving that field's offset in the
 * body. The bytes are the answer's own Buffer, or a slot of the cache's slab (off the JS heap);
 * rendering is one copy either way.
 */
export interface PackedAnswer {
  bytes: Buffer;
  start: number;
  end: number;
  bodyLen: number;
}

export function packAnswer(body: Buffer, ttlOffsets: ArrayLike<number> = []): PackedAnswer {
  const bytes = Buffer.allocUnsafe(body.length + ttlOffsets.length * 2);
  body.copy(bytes, 0);
  for (let i = 0; i < ttlOffsets.length; i++) bytes.writeUInt16BE(ttlOffsets[i], body.length + i * 2);
  return { bytes, start: 0, end: bytes.length, bodyLen: body.length };
}

/** Padding block for encrypted transports (RFC 8467: responses to 468). 0 = no padding. */
export type PadBlock = number;

function optLength(q: ParsedQuery, contentLen: number, padBlock: PadBlock): number {
  if (!q.edns) return 0;
  const base = 11 + (q.cookieOut === null ? 0 : 4 + q.cookieOut.length);
  if (!(padBlock > 0 && q.padding)) return base;
  const bare = contentLen + base + 4;
  const pad = (padBlock - (bare % padBlock)) % padBlock;
  return base + 4 + pad;
}

function writeOpt(out: Buffer, at: number, q: ParsedQuery, optLen: number, extRcode: number): void {
  out[at] = 0;
  put16(out, at + 1, RRType.OPT);
  put16(out, at + 3, EDNS_UDP_SIZE);
  out[at + 5] = extRcode;
  out[at + 6] = 0; // version
  out[at + 7] = q.dnssecOk ? 0x80 : 0;
  out[at + 8] = 0;
  put16(out, at + 9, optLen - 11);
  let o = at + 11;
  const cookie = q.cookieOut;
  if (cookie !== null) {
    put16(out, o, OPT_COOKIE);
    put16(out, o + 2, cookie.length);
    copyBytes(cookie, 0, cookie.length, out, o + 4);
    o += 4 + cookie.length;
  }
  if (o < at + optLen) {
    put16(out, o, OPT_PADDING);
    put16(out, o + 2, at + optLen - o - 4);
    out.fill(0, o + 4, at + optLen);
  }
}

/** Header bits every reply gets from the query: ID, RD, CD; and RA, because we recurse. */
function writeHeader(out: Buffer, q: ParsedQuery, query: Uint8Array, tc: number): void {
  out[0] = q.id >> 8;
  out[1] = q.id & 0xff;
  out[2] = (out[2] & 0xfe) | (q.flags1 & 0x01) | tc;
  out[3] = (out[3] & 0x2f) | 0x80 | (query[3] & 0x10);
  for (let i = HEADER_SIZE; i < q.qnameEnd; i++) out[i] = query[i];
}

/**
 * @param ttlAdjust seconds to subtract from every stored TTL (age of the entry), or, when
 *   `fixedTtl` is >= 0, ignored and every TTL becomes `fixedTtl` (serve-stale uses 30).
 */
export function renderReply(
  a: PackedAnswer, q: ParsedQuery, query: Uint8Array, maxSize: number, ttlAdjust: number, fixedTtl: number, padBlock: PadBlock,
): Buffer {
  const optLen = optLength(q, a.bodyLen, padBlock);
  if (a.bodyLen + optLen > maxSize) return fitReply(a, q, query, maxSize, ttlAdjust, fixedTtl, padBlock);
  return renderPrefix(a, a.bodyLen, q, query, ttlAdjust, fixedTtl, optLen, -1);
}

/**
 * The first `len` body bytes (whole sections), TTLs aged, our OPT appended. `keptNs` >= 0: the
 * cut fell after the authority section (keptNs records) or the answer (0); additional is gone.
 */
function renderPrefix(
  a: PackedAnswer, len: number, q: ParsedQuery, query: Uint8Array, ttlAdjust: number, fixedTtl: number, optLen: number,
  keptNs: number,
): Buffer {
  const { bytes, start, end, bodyLen } = a;
  const out = Buffer.allocUnsafe(len + optLen);
  copyBytes(bytes, start, start + len, out, 0);
  writeHeader(out, q, query, 0);
  for (let p = start + bodyLen; p < end; p += 2) {
    const at = (bytes[p] << 8) | bytes[p + 1];
    if (at >= len) continue;
    let v = fixedTtl >= 0 ? fixedTtl : u32(out, at) - ttlAdjust;
    if (v < 0) v = 0;
    put32(out, at, v);
  }
  if (keptNs >= 0) {
    put16(out, 8, keptNs);
    put16(out, 10, 0);
  }
  if (optLen > 0) {
    writeOpt(out, len, q, optLen, 0);
    put16(out, 10, u16(out, 10) + 1);
  }
  return out;
}

/**
 * Too big as a whole: drop the additional section; then, for a positive answer, the authority
 * section unless it holds NSEC/NSEC3 (a wildcard's proof, RFC 4035 §3.1.3.3); else TC. Records
 * are dropped from the end only, so no kept compression pointer points into a dropped record.
 */
function fitReply(
  a: PackedAnswer, q: ParsedQuery, query: Uint8Array, maxSize: number, ttlAdjust: number, fixedTtl: number, padBlock: PadBlock,
): Buffer {
  const body = Buffer.from(a.bytes.subarray(a.start, a.start + a.bodyLen));
  const an = body.readUInt16BE(6);
  const ns = body.readUInt16BE(8);
  let off = q.questionEnd;
  for (let i = 0; i < an; i++) off = skipRecord(body, off);
  const answerEnd = off;
  let proofs = false;
  for (let i = 0; i < ns && off > 0; i++) {
    const t = skipName(body, off);
    if (t > 0 && t + 2 <= body.length) {
      const type = body.readUInt16BE(t);
      if (type === RRType.NSEC || type === RRType.NSEC3) proofs = true;
    }
    off = skipRecord(body, off);
  }
  const authorityEnd = off;
  if (answerEnd > 0 && authorityEnd > 0) {
    const cuts: Array<[number, number]> = [[authorityEnd, ns]];
    if (an > 0 && ns > 0 && !proofs) cuts.push([answerEnd, 0]);
    for (const [cut, keptNs] of cuts) {
      const optLen = optLength(q, cut, padBlock);
      if (cut + optLen <= maxSize) return renderPrefix(a, cut, q, query, ttlAdjust, fixedTtl, optLen, keptNs);
    }
  }
  return truncatedReply(a, q, query, padBlock);
}

function skipRecord(buf: Buffer, off: number): number {
  if (off < 0) return -1;
  const n = skipName(buf, off);
  if (n < 0 || n + 10 > buf.length) return -1;
  const end = n + 10 + buf.readUInt16BE(n + 8);
  return end <= buf.length ? end : -1;
}

/** Header + question (+ OPT) with TC set: the client retries over TCP. */
export function truncatedReply(a: PackedAnswer, q: ParsedQuery, query: Uint8Array, padBlock: PadBlock): Buffer {
  const optLen = optLength(q, q.questionEnd, padBlock);
  const out = Buffer.allocUnsafe(q.questionEnd + optLen);
  copyBytes(a.bytes, a.start, a.start + q.questionEnd, out, 0);
  writeHeader(out, q, query, 0x02);
  put16(out, 4, 1);
  put32(out, 6, 0);
  put16(out, 10, optLen > 0 ? 1 : 0);
  if (optLen > 0) writeOpt(out, q.questionEnd, q, optLen, 0);
  return out;
}

/**
 * A reply carrying only an rcode (FORMERR, SERVFAIL, REFUSED, NOTIMP, BADVERS, BADCOOKIE, ...).
 * Echoes the question when it was parsed, so clients can match it, and the OPT when the query
 * had one (RFC 6891 §6.1.1); RA is set because we recurse, CD and RD are echoed.
 */
export function errorReply(query: Uint8Array, q: ParsedQuery, rcode: number, padBlock: PadBlock = 0): Buffer {
  const haveQuestion = q.questionEnd > HEADER_SIZE;
  const qEnd = haveQuestion ? q.questionEnd : HEADER_SIZE;
  const optLen = optLength(q, qEnd, padBlock);
  const out = Buffer.alloc(qEnd + optLen);
  out[0] = q.id >> 8;
  out[1] = q.id & 0xff;
  out[2] = 0x80 | (q.flags1 & 0x79); // QR, opcode, RD
  out[3] = 0x80 | (query.length > 3 ? query[3] & 0x10 : 0) | (rcode & 0x0f);
  if (haveQuestion) {
    put16(out, 4, 1);
    for (let i = HEADER_SIZE; i < qEnd; i++) out[i] = query[i];
  }
  if (optLen > 0) {
    writeOpt(out, qEnd, q, optLen, rcode >> 4);
    put16(out, 10, 1);
  }
  return out;
}
