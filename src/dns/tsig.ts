/**
 * TSIG (RFC 8945) for messages edgedns answers: check a signed request (key, MAC, time, in the
 * RFC's order) and sign the response with the request's MAC folded in. HMAC-SHA256, -SHA512 and
 * -SHA1. Off the hot path: only signed messages come here.
 */
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CLASS_ANY, Rcode, RRType, TsigError } from './constants.js';
import { encodeName, normalizeName } from './name.js';
import { readName } from './records.js';

export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512' | 'hmac-sha1';

export interface TsigKey {
  /** dotted, lower case */
  name: string;
  algorithm: TsigAlgorithm;
  secret: Buffer;
}

const HASH: Record<TsigAlgorithm, { node: string; bytes: number }> = {
  'hmac-sha256': { node: 'sha256', bytes: 32 },
  'hmac-sha512': { node: 'sha512', bytes: 64 },
  'hmac-sha1': { node: 'sha1', bytes: 20 },
};
/** Fudge we put in our signatures and allow at most in requests' checks: RFC 8945 §10 recommends 300 s. */
export const FUDGE_S = 300;

/** Keys by lower-case dotted name. */
export type TsigKeyring = ReadonlyMap<string, TsigKey>;

/** What the request's TSIG said, and what signing the response needs. */
export interface TsigCheck {
  /** 0: good; else a TSIG error (BADKEY, BADSIG, BADTIME) or -1 for FORMERR */
  error: number;
  key?: TsigKey;
  keyName: Buffer;
  algName: Buffer;
  requestMac: Buffer;
  timeSigned: number;
}

function wireLower(name: number[]): Buffer {
  return encodeName(normalizeName(wireToDotted(name)));
}

function wireToDotted(name: number[]): string {
  const labels: string[] = [];
  for (let i = 0; name[i] !== 0 && i < name.length; i += 1 + name[i]) labels.push(Buffer.from(name.slice(i + 1, i + 1 + name[i])).toString('latin1'));
  return labels.join('.');
}

function u48(b: Buffer, at: number): number {
  return b.readUInt16BE(at) * 2 ** 32 + b.readUInt32BE(at + 2);
}

function writeU48(b: Buffer, at: number, v: number): void {
  b.writeUInt16BE(Math.floor(v / 2 ** 32) & 0xffff, at);
  b.writeUInt32BE(v % 2 ** 32 >>> 0, at + 2);
}

/** TSIG variables (RFC 8945 §4.3.3): name, class, TTL, algorithm, time, fudge, error, other. */
function variables(keyName: Buffer, algName: Buffer, time: number, fudge: number, error: number, other: Buffer): Buffer {
  const fixed = Buffer.alloc(2 + 4);
  fixed.writeUInt16BE(CLASS_ANY, 0);
  const tail = Buffer.alloc(6 + 2 + 2 + 2);
  writeU48(tail, 0, time);
  tail.writeUInt16BE(fudge, 6);
  tail.writeUInt16BE(error, 8);
  tail.writeUInt16BE(other.length, 10);
  return Buffer.concat([keyName, fixed, algName, tail, other]);
}

/** Check the TSIG record at `at` (the last record of `msg`). */
export function checkTsig(msg: Buffer, at: number, keys: TsigKeyring, nowSeconds: number): TsigCheck {
  const bad = (error: number, keyName = Buffer.from([0]), algName = Buffer.from([0])): TsigCheck =>
    ({ error, keyName, algName, requestMac: Buffer.alloc(0), timeSigned: 0 });
  const owner = readName(msg, at);
  if (owner === null || owner.end + 10 > msg.length) return bad(-1);
  const rd = owner.end + 10;
  const rdEnd = rd + msg.readUInt16BE(owner.end + 8);
  if (msg.readUInt16BE(owner.end + 2) !== CLASS_ANY || rdEnd !== msg.length) return bad(-1);
  const alg = readName(msg, rd);
  if (alg === null || alg.end + 10 > rdEnd) return bad(-1);
  const keyName = wireLower(owner.name);
  const algName = wireLower(alg.name);
  let p = alg.end;
  const timeSigned = u48(msg, p);
  const fudge = msg.readUInt16BE(p + 6);
  const macSize = msg.readUInt16BE(p + 8);
  p += 10;
  if (p + macSize + 6 > rdEnd) return bad(-1);
  const mac = msg.subarray(p, p + macSize);
  p += macSize;
  const originalId = msg.readUInt16BE(p);
  const otherLen = msg.readUInt16BE(p + 4);
  if (p + 6 + otherLen !== rdEnd) return bad(-1);
  const other = msg.subarray(p + 6, rdEnd);
  const key = keys.get(wireToDotted(owner.name).toLowerCase());
  const algText = wireToDotted(alg.name).toLowerCase() as TsigAlgorithm;
  const base = { keyName, algName, requestMac: Buffer.alloc(0), timeSigned };
  if (key === undefined || key.algorithm !== algText) return { ...base, error: TsigError.BADKEY };
  const h = HASH[key.algorithm];
  // RFC 8945 §5.2.2.1: a MAC truncated below max(10, half the hash) is a format error.
  if (macSize > h.bytes || macSize < Math.max(10, h.bytes / 2)) return { ...base, error: -1 };
  const signed = Buffer.from(msg.subarray(0, at));
  signed.writeUInt16BE(originalId, 0);
  signed.writeUInt16BE(signed.readUInt16BE(10) - 1, 10);
  const want = createHmac(h.node, key.secret).update(signed).update(variables(keyName, algName, timeSigned, fudge, 0, other)).digest();
  if (!timingSafeEqual(want.subarray(0, macSize), mac)) return { ...base, error: TsigError.BADSIG };
  const check = { ...base, key, requestMac: Buffer.from(mac) };
  if (Math.abs(nowSeconds - timeSigned) > fudge) return { ...check, error: TsigError.BADTIME };
  return { ...check, error: 0 };
}

/**
 * The response with a TSIG record appended: signed with the request's key when the request's
 * MAC checked out (also for BADTIME, §5.2.3), unsigned (MAC size 0) for BADKEY and BADSIG.
 */
export function signResponse(reply: Buffer, check: TsigCheck, nowSeconds: number): Buffer {
  const signedOk = check.key !== undefined && check.error !== TsigError.BADSIG && check.error !== TsigError.BADKEY;
  const time = check.error === TsigError.BADTIME ? check.timeSigned : nowSeconds;
  let other = Buffer.alloc(0);
  if (check.error === TsigError.BADTIME) {
    other = Buffer.alloc(6);
    writeU48(other, 0, nowSeconds); // §5.2.3: our time, for the client to see the skew
  }
  const errorField = check.error > 0 ? check.error : 0;
  let mac = Buffer.alloc(0);
  if (signedOk) {
    const k = check.key!;
    const len = Buffer.alloc(2);
    len.writeUInt16BE(check.requestMac.length, 0);
    mac = createHmac(HASH[k.algorithm].node, k.secret)
      .update(len).update(check.requestMac).update(reply)
      .update(variables(check.keyName, check.algName, time, FUDGE_S, errorField, other)).digest();
  }
  return appendTsig(reply, check.keyName, check.algName, time, mac, errorField, other);
}

/** The TSIG record for `msg` with this MAC, appended (ARCOUNT + 1). */
function appendTsig(msg: Buffer, keyName: Buffer, algName: Buffer, time: number, mac: Buffer, error: number, other: Buffer): Buffer {
  const rdata = Buffer.alloc(algName.length + 10 + mac.length + 6 + other.length);
  let p = algName.copy(rdata, 0);
  writeU48(rdata, p, time);
  rdata.writeUInt16BE(FUDGE_S, p + 6);
  rdata.writeUInt16BE(mac.length, p + 8);
  p += 10 + mac.copy(rdata, p + 10);
  rdata.writeUInt16BE(msg.readUInt16BE(0), p);
  rdata.writeUInt16BE(error, p + 2);
  rdata.writeUInt16BE(other.length, p + 4);
  other.copy(rdata, p + 6);
  const head = Buffer.alloc(10);
  head.writeUInt16BE(RRType.TSIG, 0);
  head.writeUInt16BE(CLASS_ANY, 2);
  head.writeUInt16BE(rdata.length, 8);
  const out = Buffer.concat([msg, keyName, head, rdata]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return out;
}

/**
 * The messages of a zone transfer, each signed (RFC 8945 §5.3.1): the first over the request's
 * MAC like any response, every later one over the MAC before it and the timers only.
 */
export function signStream(messages: Buffer[], check: TsigCheck, nowSeconds: number): Buffer[] {
  const k = check.key!;
  const out: Buffer[] = [];
  let prior: Buffer = Buffer.alloc(0);
  for (const [i, m] of messages.entries()) {
    if (i === 0) {
      const signed = signResponse(m, check, nowSeconds);
      out.push(signed);
      prior = macOf(signed);
      continue;
    }
    const len = Buffer.alloc(2);
    len.writeUInt16BE(prior.length, 0);
    const timers = Buffer.alloc(8);
    writeU48(timers, 0, nowSeconds);
    timers.writeUInt16BE(FUDGE_S, 6);
    const mac = createHmac(HASH[k.algorithm].node, k.secret).update(len).update(prior).update(m).update(timers).digest();
    out.push(appendTsig(m, check.keyName, check.algName, nowSeconds, mac, 0, Buffer.alloc(0)));
    prior = mac;
  }
  return out;
}

/** The MAC of the TSIG record that ends `msg` (one we just appended). */
function macOf(msg: Buffer): Buffer {
  const at = lastRecordAt(msg);
  const owner = readName(msg, at)!;
  const alg = readName(msg, owner.end + 10)!;
  const size = msg.readUInt16BE(alg.end + 8);
  return Buffer.from(msg.subarray(alg.end + 10, alg.end + 10 + size));
}

/** Offset of the last record of a message, -1 when it has none or is malformed. */
export function lastRecordAt(msg: Buffer): number {
  if (msg.length < 12) return -1;
  let off = 12;
  for (let i = msg.readUInt16BE(4); i > 0; i--) {
    const n = readName(msg, off);
    if (n === null) return -1;
    off = n.end + 4;
  }
  const records = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10);
  let last = -1;
  for (let i = 0; i < records; i++) {
    const n = readName(msg, off);
    if (n === null || n.end + 10 > msg.length) return -1;
    last = off;
    off = n.end + 10 + msg.readUInt16BE(n.end + 8);
    if (off > msg.length) return -1;
  }
  return last;
}

/** Bytes the TSIG record of a response to this request takes (for fitting the answer). */
export function tsigSize(check: TsigCheck): number {
  const macLen = check.key !== undefined ? HASH[check.key.algorithm].bytes : 0;
  return check.keyName.length + 10 + check.algName.length + 10 + macLen + 6 + 6;
}

/** NOTAUTH for a request whose signature failed (FORMERR for a broken TSIG record). */
export function tsigFailureRcode(check: TsigCheck): number {
  return check.error === -1 ? Rcode.FORMERR : Rcode.NOTAUTH;
}

/** A request signed with `key` (RFC 8945 §4.3), and its MAC, which the reply's MAC covers. */
export function signRequest(msg: Buffer, key: TsigKey, nowSeconds: number): { message: Buffer; mac: Buffer } {
  const keyName = encodeName(key.name);
  const algName = encodeName(key.algorithm);
  const empty = Buffer.alloc(0);
  const mac = createHmac(HASH[key.algorithm].node, key.secret).update(msg).update(variables(keyName, algName, nowSeconds, FUDGE_S, 0, empty)).digest();
  return { message: appendTsig(msg, keyName, algName, nowSeconds, mac, 0, empty), mac };
}

/**
 * Does this reply carry a good signature by `key` over our request's MAC (§5.3)? 'unsigned' for
 * a reply without TSIG, which a server sends when it does not know the key (BADKEY/BADSIG).
 */
export function verifyReply(reply: Buffer, key: TsigKey, requestMac: Buffer, nowSeconds: number): 'good' | 'unsigned' | 'bad' {
  const at = lastRecordAt(reply);
  if (at < 0) return 'bad';
  const owner = readName(reply, at);
  if (owner === null || reply.readUInt16BE(owner.end) !== RRType.TSIG) return 'unsigned';
  const rd = owner.end + 10;
  const alg = readName(reply, rd);
  if (alg === null || alg.end + 10 > reply.length) return 'bad';
  let p = alg.end;
  const time = u48(reply, p);
  const fudge = reply.readUInt16BE(p + 6);
  const macSize = reply.readUInt16BE(p + 8);
  p += 10;
  if (p + macSize + 6 > reply.length) return 'bad';
  const mac = reply.subarray(p, p + macSize);
  p += macSize;
  const originalId = reply.readUInt16BE(p);
  const error = reply.readUInt16BE(p + 2);
  const otherLen = reply.readUInt16BE(p + 4);
  if (p + 6 + otherLen !== reply.length) return 'bad';
  if (macSize === 0) return 'unsigned';
  const other = reply.subarray(p + 6, p + 6 + otherLen);
  const signed = Buffer.from(reply.subarray(0, at));
  signed.writeUInt16BE(originalId, 0);
  signed.writeUInt16BE(signed.readUInt16BE(10) - 1, 10);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(requestMac.length, 0);
  const want = createHmac(HASH[key.algorithm].node, key.secret).update(len).update(requestMac).update(signed)
    .update(variables(wireLower(owner.name), wireLower(alg.name), time, fudge, error, other)).digest();
  if (macSize > want.length || !timingSafeEqual(want.subarray(0, macSize), mac)) return 'bad';
  return Math.abs(nowSeconds - time) > fudge ? 'bad' : 'good';
}
