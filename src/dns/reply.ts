/**
 * Turning a stored response body into the bytes one client gets. A body is a complete response
 * without an OPT record; here we write the client's ID, RD bit and question-name case, age the
 * TTLs, append our OPT when the client used EDNS, and truncate (TC) when it does not fit.
 * This is the cache-hit path: one allocation, no decoding.
 */
import { Buffer } from 'node:buffer';
import { EDNS_UDP_SIZE, HEADER_SIZE, OPT_PADDING, RRType } from './constants.js';
import type { ParsedQuery } from './query.js';

/**
 * A stored answer: the response body (a complete response without OPT) as a latin1 string,
 * followed by two bytes per TTL field giving that field's offset in the body. One compact heap
 * string per answer: no typed arrays, no external memory, and one copy to render.
 */
export interface PackedAnswer {
  data: string;
  bodyLen: number;
}

export function packAnswer(body: Buffer, ttlOffsets: ArrayLike<number> = []): PackedAnswer {
  const tail = Buffer.allocUnsafe(ttlOffsets.length * 2);
  for (let i = 0; i < ttlOffsets.length; i++) tail.writeUInt16BE(ttlOffsets[i], i * 2);
  return { data: body.toString('latin1') + tail.toString('latin1'), bodyLen: body.length };
}

/** Padding block for encrypted transports (RFC 8467: responses to 468). 0 = no padding. */
export type PadBlock = number;

function optLength(q: ParsedQuery, contentLen: number, padBlock: PadBlock): number {
  if (!q.edns) return 0;
  if (!(padBlock > 0 && q.padding)) return 11;
  const bare = contentLen + 11 + 4;
  const pad = (padBlock - (bare % padBlock)) % padBlock;
  return 15 + pad;
}

function writeOpt(out: Buffer, at: number, q: ParsedQuery, optLen: number, extRcode: number): void {
  out[at] = 0;
  out.writeUInt16BE(RRType.OPT, at + 1);
  out.writeUInt16BE(EDNS_UDP_SIZE, at + 3);
  out[at + 5] = extRcode;
  out[at + 6] = 0; // version
  out[at + 7] = q.dnssecOk ? 0x80 : 0;
  out[at + 8] = 0;
  out.writeUInt16BE(optLen - 11, at + 9);
  if (optLen > 11) {
    out.writeUInt16BE(OPT_PADDING, at + 11);
    out.writeUInt16BE(optLen - 15, at + 13);
    out.fill(0, at + 15, at + optLen);
  }
}

/**
 * @param ttlAdjust seconds to subtract from every stored TTL (age of the entry), or, when
 *   `fixedTtl` is >= 0, ignored and every TTL becomes `fixedTtl` (serve-stale uses 30).
 */
export function renderReply(
  a: PackedAnswer, q: ParsedQuery, query: Uint8Array, maxSize: number, ttlAdjust: number, fixedTtl: number, padBlock: PadBlock,
): Buffer {
  const { data, bodyLen } = a;
  const optLen = optLength(q, bodyLen, padBlock);
  const total = bodyLen + optLen;
  if (total > maxSize) return truncatedReply(a, q, query, padBlock);
  const out = Buffer.allocUnsafe(total);
  out.write(data, 0, bodyLen, 'latin1');
  out[0] = q.id >> 8;
  out[1] = q.id & 0xff;
  out[2] = (out[2] & 0xfe) | (q.flags1 & 0x01);
  for (let i = HEADER_SIZE; i < q.qnameEnd; i++) out[i] = query[i];
  for (let p = bodyLen; p < data.length; p += 2) {
    const at = (data.charCodeAt(p) << 8) | data.charCodeAt(p + 1);
    let v = fixedTtl >= 0 ? fixedTtl : out.readUInt32BE(at) - ttlAdjust;
    if (v < 0) v = 0;
    out.writeUInt32BE(v, at);
  }
  if (optLen > 0) {
    writeOpt(out, bodyLen, q, optLen, 0);
    out.writeUInt16BE(((out[10] << 8) | out[11]) + 1, 10);
  }
  return out;
}

/** Header + question (+ OPT) with TC set: the client retries over TCP. */
export function truncatedReply(a: PackedAnswer, q: ParsedQuery, query: Uint8Array, padBlock: PadBlock): Buffer {
  const optLen = optLength(q, q.questionEnd, padBlock);
  const out = Buffer.allocUnsafe(q.questionEnd + optLen);
  out.write(a.data, 0, q.questionEnd, 'latin1');
  out[0] = q.id >> 8;
  out[1] = q.id & 0xff;
  out[2] = (out[2] & 0xfe) | (q.flags1 & 0x01) | 0x02;
  for (let i = HEADER_SIZE; i < q.qnameEnd; i++) out[i] = query[i];
  out.writeUInt16BE(1, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(optLen > 0 ? 1 : 0, 10);
  if (optLen > 0) writeOpt(out, q.questionEnd, q, optLen, 0);
  return out;
}

/**
 * A reply carrying only an rcode (FORMERR, SERVFAIL, REFUSED, NOTIMP, BADVERS, ...). Echoes the
 * question when it was parsed, so clients can match it; RA is set because we recurse.
 */
export function errorReply(query: Uint8Array, q: ParsedQuery, rcode: number, padBlock: PadBlock = 0): Buffer {
  const haveQuestion = q.questionEnd > HEADER_SIZE;
  const qEnd = haveQuestion ? q.questionEnd : HEADER_SIZE;
  const optLen = optLength(q, qEnd, padBlock);
  const out = Buffer.alloc(qEnd + optLen);
  out[0] = q.id >> 8;
  out[1] = q.id & 0xff;
  out[2] = 0x80 | (q.flags1 & 0x79); // QR, opcode, RD
  out[3] = 0x80 | (rcode & 0x0f);
  if (haveQuestion) {
    out.writeUInt16BE(1, 4);
    for (let i = HEADER_SIZE; i < qEnd; i++) out[i] = query[i];
  }
  if (optLen > 0) {
    writeOpt(out, qEnd, q, optLen, rcode >> 4);
    out.writeUInt16BE(1, 10);
  }
  return out;
}
