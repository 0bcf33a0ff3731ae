/**
 * EDNS options on queries we send over encrypted transports: RFC 7830 padding to a block
 * (RFC 8467 recommends 128 bytes for queries) and the RFC 7828 TCP keepalive request.
 * Off the hot path: runs once per upstream query.
 */
import { Buffer } from 'node:buffer';
import { RRType } from './constants.js';
import { skipRR } from './query.js';
import { skipName } from './name.js';

export const OPT_TCP_KEEPALIVE = 11;
export const QUERY_PAD_BLOCK = 128;

/** Offset of the OPT record in a message, or -1. */
function findOpt(msg: Buffer): number {
  let off = skipName(msg, 12);
  if (off < 0) return -1;
  off += 4;
  const counts = msg.readUInt16BE(6) + msg.readUInt16BE(8);
  for (let i = 0; i < counts; i++) {
    off = skipRR(msg, off);
    if (off < 0) return -1;
  }
  for (let i = 0, ar = msg.readUInt16BE(10); i < ar; i++) {
    if (msg[off] === 0 && off + 3 <= msg.length && msg.readUInt16BE(off + 1) === RRType.OPT) return off;
    off = skipRR(msg, off);
    if (off < 0) return -1;
  }
  return -1;
}

/**
 * Append options to the OPT record of a query we built (the OPT must be the last record),
 * then pad the whole message to a multiple of `padBlock` (0: no padding).
 */
export function withQueryOptions(msg: Buffer, opts: { keepalive?: boolean; padBlock?: number }): Buffer {
  const opt = findOpt(msg);
  if (opt < 0 || opt + 11 > msg.length) return msg;
  const extra: Buffer[] = [];
  if (opts.keepalive) extra.push(Buffer.from([0, OPT_TCP_KEEPALIVE, 0, 0]));
  let len = msg.length + extra.reduce((n, b) => n + b.length, 0);
  if (opts.padBlock) {
    const pad = (opts.padBlock - ((len + 4) % opts.padBlock)) % opts.padBlock;
    const p = Buffer.alloc(4 + pad);
    p.writeUInt16BE(12, 0);
    p.writeUInt16BE(pad, 2);
    extra.push(p);
    len += p.length;
  }
  const out = Buffer.concat([msg, ...extra]);
  out.writeUInt16BE(out.readUInt16BE(opt + 9) + (len - msg.length), opt + 9);
  return out;
}

/** The smallest TTL among the answer and authority records (for HTTP Cache-Control), or 0. */
export function minTtl(msg: Buffer): number {
  let off = skipName(msg, 12);
  if (off < 0 || msg.length < 12) return 0;
  off += 4;
  let min = Infinity;
  const n = msg.readUInt16BE(6) + msg.readUInt16BE(8);
  for (let i = 0; i < n; i++) {
    const nameEnd = skipName(msg, off);
    if (nameEnd < 0 || nameEnd + 10 > msg.length) return 0;
    min = Math.min(min, msg.readUInt32BE(nameEnd + 4));
    off = nameEnd + 10 + msg.readUInt16BE(nameEnd + 8);
  }
  return Number.isFinite(min) ? min : 0;
}
