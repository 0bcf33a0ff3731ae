/**
 * EDNS options on queries we send: over encrypted transports RFC 7830 padding to a block
 * (RFC 8467 recommends 128 bytes for queries) and the RFC 7828 TCP keepalive request; over
 * plain UDP our RFC 7873 COOKIE, made once per server cookie and appended with one copy.
 * Runs once per upstream query; the COOKIE of an upstream's reply is read here too.
 */
import { Buffer } from 'node:buffer';
import { OPT_COOKIE, RRType } from './constants.js';
import { skipRR } from './query.js';
import { skipName } from './name.js';
import { copyBytes, put16, u16, u32 } from './bytes.js';

export const OPT_TCP_KEEPALIVE = 11;
export const QUERY_PAD_BLOCK = 128;

/** Offset of the OPT record in a message, or -1. */
export function findOpt(msg: Buffer): number {
  let off = skipName(msg, 12);
  if (off < 0) return -1;
  off += 4;
  const counts = u16(msg, 6) + u16(msg, 8);
  for (let i = 0; i < counts; i++) {
    off = skipRR(msg, off);
    if (off < 0) return -1;
  }
  for (let i = 0, ar = u16(msg, 10); i < ar; i++) {
    if (msg[off] === 0 && off + 3 <= msg.length && u16(msg, off + 1) === RRType.OPT) return off;
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

/** A COOKIE option (code, length, client cookie, server cookie), made once per server cookie and appended to every query. */
export function cookieOption(client: Buffer, server: Buffer | null): Buffer {
  const len = client.length + (server === null ? 0 : server.length);
  const o = Buffer.allocUnsafe(4 + len);
  o.writeUInt16BE(OPT_COOKIE, 0);
  o.writeUInt16BE(len, 2);
  client.copy(o, 4);
  if (server !== null) server.copy(o, 4 + client.length);
  return o;
}

/** `msg` with `option` (whole, code and length included) added to its OPT, which must be last: one copy. */
export function withOption(msg: Buffer, option: Buffer): Buffer {
  const opt = findOpt(msg);
  if (opt < 0 || opt + 11 > msg.length || opt + 11 + u16(msg, opt + 9) !== msg.length) return Buffer.from(msg);
  const out = Buffer.allocUnsafe(msg.length + option.length);
  copyBytes(msg, 0, msg.length, out, 0);
  copyBytes(option, 0, option.length, out, msg.length);
  put16(out, opt + 9, u16(msg, opt + 9) + option.length);
  return out;
}

/** The smallest TTL among the answer and authority records (for HTTP Cache-Control), or 0. */
export function minTtl(msg: Buffer): number {
  let off = skipName(msg, 12);
  if (off < 0 || msg.length < 12) return 0;
  off += 4;
  let min = Infinity;
  const n = u16(msg, 6) + u16(msg, 8);
  for (let i = 0; i < n; i++) {
    const nameEnd = skipName(msg, off);
    if (nameEnd < 0 || nameEnd + 10 > msg.length) return 0;
    min = Math.min(min, u32(msg, nameEnd + 4));
    off = nameEnd + 10 + u16(msg, nameEnd + 8);
  }
  return Number.isFinite(min) ? min : 0;
}

/** The COOKIE option and the extended rcode of a response's OPT; null when it has no OPT. */
export function responseCookie(msg: Buffer): { cookie: Buffer | null; rcode: number } | null {
  const opt = findOpt(msg);
  if (opt < 0 || opt + 11 > msg.length) return null;
  const rcode = (msg[opt + 5] << 4) | (msg[3] & 0x0f);
  const end = Math.min(msg.length, opt + 11 + u16(msg, opt + 9));
  for (let o = opt + 11; o + 4 <= end;) {
    const code = u16(msg, o);
    const len = u16(msg, o + 2);
    if (code === OPT_COOKIE && o + 4 + len <= end) return { cookie: msg.subarray(o + 4, o + 4 + len), rcode };
    o += 4 + len;
  }
  return { cookie: null, rcode };
}
