/**
 * The A and AAAA records of a response's answer section, with their TTLs, read by offset.
 * Used only for names a multi-WAN domain policy watches, never for every answer.
 */
import { ipaddr } from '../cjs.js';
import { HEADER_SIZE, RRType } from './constants.js';
import { skipName } from './name.js';

export interface AnswerAddress {
  family: 4 | 6;
  /** as nft and ip print it (IPv6 compressed) */
  address: string;
  ttl: number;
}

export function answerAddresses(buf: Uint8Array): AnswerAddress[] {
  if (buf.length < HEADER_SIZE) return [];
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const qd = view.readUInt16BE(4);
  const an = view.readUInt16BE(6);
  let off = HEADER_SIZE;
  for (let i = 0; i < qd; i++) {
    off = skipName(view, off);
    if (off < 0 || off + 4 > view.length) return [];
    off += 4;
  }
  const out: AnswerAddress[] = [];
  for (let i = 0; i < an; i++) {
    const nameEnd = skipName(view, off);
    if (nameEnd < 0 || nameEnd + 10 > view.length) return out;
    const type = view.readUInt16BE(nameEnd);
    const ttl = view.readUInt32BE(nameEnd + 4);
    const rdlen = view.readUInt16BE(nameEnd + 8);
    const rdata = nameEnd + 10;
    if (rdata + rdlen > view.length) return out;
    if (type === RRType.A && rdlen === 4) {
      out.push({ family: 4, address: `${view[rdata]}.${view[rdata + 1]}.${view[rdata + 2]}.${view[rdata + 3]}`, ttl: ttl > 0x7fffffff ? 0 : ttl });
    } else if (type === RRType.AAAA && rdlen === 16) {
      out.push({ family: 6, address: ipaddr.fromByteArray([...view.subarray(rdata, rdata + 16)]).toString(), ttl: ttl > 0x7fffffff ? 0 : ttl });
    }
    off = rdata + rdlen;
  }
  return out;
}
