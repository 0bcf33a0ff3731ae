/**
 * Query parsing by offset: header, the one question and the OPT record, nothing else.
 * This runs for every packet, so it builds only what the cache lookup needs: a latin1 key made
 * from the lower-cased wire name, qtype, qclass and the DO/CD bits, via one scratch buffer.
 */
import { Buffer } from 'node:buffer';
import { CLASSIC_UDP_SIZE, EDNS_UDP_SIZE, HEADER_SIZE, OPT_COOKIE, OPT_PADDING, Opcode, RRType } from './constants.js';
import { skipName } from './name.js';
import { hashBytes, KEY_SEED } from '../string-table.js';
import { latin1 } from './bytes.js';

export const ParseStatus = {
  OK: 0,
  /** Shorter than a header, or a response: send nothing. */
  DROP: 1,
  FORMERR: 2,
  /** Parsed, but the opcode is not QUERY: the resolver answers NOTIMP or REFUSED. */
  OPCODE: 3,
  BADVERS: 4,
} as const;
export type ParseStatus = (typeof ParseStatus)[keyof typeof ParseStatus];

export interface ParsedQuery {
  status: ParseStatus;
  id: number;
  /** Byte 2 of the header: QR, opcode, AA, TC, RD. */
  flags1: number;
  /** Offset just past the question name (the name itself starts at 12). */
  qnameEnd: number;
  /** Offset just past the question (qtype and qclass). */
  questionEnd: number;
  qtype: number;
  qclass: number;
  /** Lower-case wire name as latin1 ("\x02gw\x04home\x04arpa\x00"). */
  name: string;
  /** Cache key: name + qtype + qclass + DO/CD, as latin1. */
  key: string;
  /** hashString(KEY_SEED, key), made once here for every table the query is looked up in */
  keyHash: number;
  edns: boolean;
  /** The most we may send back over UDP. */
  udpSize: number;
  dnssecOk: boolean;
  checkingDisabled: boolean;
  /** The client asked for RFC 7830 padding. */
  padding: boolean;
  /** Header bits the reply echoes or acts on: AD (RFC 6840 §5.7). */
  authenticData: boolean;
  /** RFC 7873: offset and length of the COOKIE option's data in the query (-1: none). */
  cookieAt: number;
  cookieLen: number;
  /** The COOKIE option for the reply (client cookie + our server cookie), set by the resolver. */
  cookieOut: Buffer | null;
  /** Offset of a TSIG record (the last additional record), -1 when unsigned. */
  tsigAt: number;
}

const scratch = Buffer.alloc(256 + 5);

function blank(status: ParseStatus, id: number, flags1: number): ParsedQuery {
  return {
    status, id, flags1, qnameEnd: HEADER_SIZE, questionEnd: HEADER_SIZE, qtype: 0, qclass: 0, name: '', key: '', keyHash: 0,
    edns: false, udpSize: CLASSIC_UDP_SIZE, dnssecOk: false, checkingDisabled: false, padding: false,
    authenticData: false, cookieAt: -1, cookieLen: 0, cookieOut: null, tsigAt: -1,
  };
}

/** Skip one resource record; returns the offset past it or -1. */
export function skipRR(buf: Uint8Array, off: number): number {
  off = skipName(buf, off);
  if (off < 0 || off + 10 > buf.length) return -1;
  const rdlen = (buf[off + 8] << 8) | buf[off + 9];
  off += 10 + rdlen;
  return off <= buf.length ? off : -1;
}

export function parseQuery(buf: Uint8Array): ParsedQuery {
  const len = buf.length;
  if (len < HEADER_SIZE) return blank(ParseStatus.DROP, 0, 0);
  const id = (buf[0] << 8) | buf[1];
  const flags1 = buf[2];
  if (flags1 & 0x80) return blank(ParseStatus.DROP, id, flags1); // a response: never answer it
  const opcode = (flags1 >> 3) & 0x0f;
  const qdcount = (buf[4] << 8) | buf[5];
  // Other opcodes are parsed as far as they go, so their NOTIMP/REFUSED echoes the question
  // and carries an OPT (RFC 6891 §6.1.1); STATUS may come without a question.
  if (qdcount !== 1 && (opcode === Opcode.QUERY || qdcount !== 0)) {
    return blank(opcode === Opcode.QUERY ? ParseStatus.FORMERR : ParseStatus.OPCODE, id, flags1);
  }
  const q = blank(ParseStatus.OK, id, flags1);
  q.authenticData = (buf[3] & 0x20) !== 0;
  q.checkingDisabled = (buf[3] & 0x10) !== 0;
  let off = HEADER_SIZE;
  let k = 0;
  if (qdcount === 1) {
    // The question name, lower-cased into the scratch buffer as we go. A pointer in the only
    // question could point nowhere valid, so it is a format error.
    for (;;) {
      if (off >= len) return blank(ParseStatus.FORMERR, id, flags1);
      const l = buf[off];
      if (l === 0) { scratch[k++] = 0; off++; break; }
      if (l > 63 || off + 1 + l > len || k + 1 + l > 254) return blank(ParseStatus.FORMERR, id, flags1);
      scratch[k++] = l;
      for (let i = 1; i <= l; i++) {
        const c = buf[off + i];
        scratch[k++] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
      }
      off += 1 + l;
    }
    if (off + 4 > len) return blank(ParseStatus.FORMERR, id, flags1);
    q.qnameEnd = off;
    q.qtype = (buf[off] << 8) | buf[off + 1];
    q.qclass = (buf[off + 2] << 8) | buf[off + 3];
    off += 4;
    q.questionEnd = off;
  }
  const nameLen = k;
  const qtype = q.qtype;
  const qclass = q.qclass;

  // Answer and authority in a query are unusual but legal (UPDATE uses both): skip them to reach the OPT.
  const an = (buf[6] << 8) | buf[7];
  const ns = (buf[8] << 8) | buf[9];
  const ar = (buf[10] << 8) | buf[11];
  for (let i = 0; i < an + ns; i++) {
    off = skipRR(buf, off);
    if (off < 0) return withStatus(q, ParseStatus.FORMERR);
  }
  let sawOpt = false;
  for (let i = 0; i < ar; i++) {
    const start = off;
    off = skipRR(buf, off);
    if (off < 0) return withStatus(q, ParseStatus.FORMERR);
    const typeAt = skipName(buf, start);
    const type = (buf[typeAt] << 8) | buf[typeAt + 1];
    if (type === RRType.TSIG) {
      // RFC 8945 §5.1: TSIG anywhere but last is a format error.
      if (i !== ar - 1) return withStatus(q, ParseStatus.FORMERR);
      q.tsigAt = start;
    } else if (type === RRType.OPT && buf[start] === 0) {
      if (sawOpt) return withStatus(q, ParseStatus.FORMERR); // RFC 6891 §6.1.1
      sawOpt = true;
      q.edns = true;
      const size = (buf[start + 3] << 8) | buf[start + 4];
      q.udpSize = Math.min(Math.max(size, CLASSIC_UDP_SIZE), EDNS_UDP_SIZE);
      const version = buf[start + 6];
      q.dnssecOk = (buf[start + 7] & 0x80) !== 0;
      let o = start + 11;
      const rdEnd = off;
      while (o + 4 <= rdEnd) {
        const code = (buf[o] << 8) | buf[o + 1];
        const olen = (buf[o + 2] << 8) | buf[o + 3];
        if (code === OPT_PADDING) q.padding = true;
        else if (code === OPT_COOKIE) {
          // RFC 7873 §5.2.2: a client cookie of 8 bytes, a server cookie of 8 to 32, or FORMERR.
          if (olen !== 8 && (olen < 16 || olen > 40)) return withStatus(q, ParseStatus.FORMERR);
          q.cookieAt = o + 4;
          q.cookieLen = olen;
        }
        o += 4 + olen;
      }
      if (o !== rdEnd) return withStatus(q, ParseStatus.FORMERR);
      if (version !== 0 && q.status === ParseStatus.OK) q.status = ParseStatus.BADVERS;
    }
  }
  if (opcode !== Opcode.QUERY) return withStatus(q, ParseStatus.OPCODE);
  scratch[k++] = qtype >> 8;
  scratch[k++] = qtype & 0xff;
  scratch[k++] = qclass >> 8;
  scratch[k++] = qclass & 0xff;
  // AD matters only without DO: with DO the upstream sets AD anyway (RFC 6840 §5.8).
  scratch[k++] = (q.dnssecOk ? 1 : 0) | (q.checkingDisabled ? 2 : 0) | (q.authenticData && !q.dnssecOk ? 4 : 0);
  q.key = latin1(scratch, 0, k);
  q.keyHash = hashBytes(KEY_SEED, scratch, k);
  q.name = q.key.slice(0, nameLen);
  return q;
}

function withStatus(q: ParsedQuery, status: ParseStatus): ParsedQuery {
  q.status = status;
  return q;
}
