/**
 * Records lifted out of one message to be placed in another (a minimal ANY answer, a CNAME
 * chased out of the local zone). Names are written uncompressed, so a record no longer depends
 * on where the bytes it pointed at went. Only RFC 1035's types may compress names in RDATA
 * (RFC 3597 §4); every other RDATA is copied as it is. Off the hot path.
 */
import { Buffer } from 'node:buffer';
import { HEADER_SIZE, RRType } from './constants.js';
import { skipName } from './name.js';

/** A record of a message, with its names expanded. */
export interface WireRecord {
  /** lower-case wire owner name, as latin1 */
  owner: string;
  type: number;
  /** RRSIG only: the type it covers */
  covers: number;
  /** the whole record, uncompressed */
  bytes: Buffer;
}

/** The wire name at `off`, following pointers; null when malformed or looping. */
export function readName(buf: Uint8Array, off: number): { name: number[]; end: number } | null {
  const name: number[] = [];
  let end = -1;
  for (let hops = 0; hops < 128; hops++) {
    if (off >= buf.length) return null;
    const l = buf[off];
    if (l === 0) {
      name.push(0);
      return { name, end: end < 0 ? off + 1 : end };
    }
    if ((l & 0xc0) === 0xc0) {
      if (off + 1 >= buf.length) return null;
      if (end < 0) end = off + 2;
      off = ((l & 0x3f) << 8) | buf[off + 1];
      continue;
    }
    if (l > 63 || off + 1 + l > buf.length || name.length + 1 + l > 255) return null;
    for (let i = 0; i <= l; i++) name.push(buf[off + i]);
    off += 1 + l;
  }
  return null;
}

/** How many names open each compressible RDATA, and the fixed bytes before the first. */
const NAMES_IN_RDATA: Record<number, { before: number; names: number }> = {
  [RRType.NS]: { before: 0, names: 1 }, [RRType.MD]: { before: 0, names: 1 }, [RRType.MF]: { before: 0, names: 1 },
  [RRType.CNAME]: { before: 0, names: 1 }, [RRType.MB]: { before: 0, names: 1 }, [RRType.MG]: { before: 0, names: 1 },
  [RRType.MR]: { before: 0, names: 1 }, [RRType.PTR]: { before: 0, names: 1 }, [RRType.SOA]: { before: 0, names: 2 },
  [RRType.MINFO]: { before: 0, names: 2 }, [RRType.MX]: { before: 2, names: 1 },
};

function lower(name: number[]): string {
  let s = '';
  let i = 0;
  while (i < name.length) {
    const l = name[i];
    s += String.fromCharCode(l);
    for (let j = 1; j <= l; j++) {
      const c = name[i + j];
      s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
    }
    i += 1 + l;
  }
  return s;
}

/** Every record of a message after the question, by section; null when malformed. */
export function readSections(msg: Buffer): { answer: WireRecord[]; authority: WireRecord[]; additional: WireRecord[] } | null {
  if (msg.length < HEADER_SIZE || msg.readUInt16BE(4) !== 1) return null;
  let off = skipName(msg, HEADER_SIZE);
  if (off < 0) return null;
  off += 4;
  const counts = [msg.readUInt16BE(6), msg.readUInt16BE(8), msg.readUInt16BE(10)];
  const sections: WireRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]; i++) {
      const r = readRecord(msg, off);
      if (r === null) return null;
      sections[s].push(r.record);
      off = r.end;
    }
  }
  return { answer: sections[0], authority: sections[1], additional: sections[2] };
}

function readRecord(msg: Buffer, off: number): { record: WireRecord; end: number } | null {
  const owner = readName(msg, off);
  if (owner === null || owner.end + 10 > msg.length) return null;
  const t = owner.end;
  const type = msg.readUInt16BE(t);
  const rdlen = msg.readUInt16BE(t + 8);
  const rdStart = t + 10;
  const end = rdStart + rdlen;
  if (end > msg.length) return null;
  let rdata: Buffer = msg.subarray(rdStart, end);
  const layout = NAMES_IN_RDATA[type];
  if (layout !== undefined) {
    const parts: number[] = [...msg.subarray(rdStart, rdStart + layout.before)];
    let p = rdStart + layout.before;
    for (let n = 0; n < layout.names; n++) {
      const name = readName(msg, p);
      if (name === null || name.end > end) return null;
      parts.push(...name.name);
      p = name.end;
    }
    parts.push(...msg.subarray(p, end));
    rdata = Buffer.from(parts);
  }
  const bytes = Buffer.alloc(owner.name.length + 10 + rdata.length);
  Buffer.from(owner.name).copy(bytes, 0);
  msg.copy(bytes, owner.name.length, t, t + 8);
  bytes.writeUInt16BE(rdata.length, owner.name.length + 8);
  rdata.copy(bytes, owner.name.length + 10);
  const covers = type === RRType.RRSIG && rdlen >= 2 ? msg.readUInt16BE(rdStart) : 0;
  return { record: { owner: lower(owner.name), type, covers, bytes }, end };
}

/** Header and question of `msg` followed by these records (counts rewritten). */
export function assemble(msg: Buffer, questionEnd: number, answer: WireRecord[], authority: WireRecord[], additional: WireRecord[]): Buffer {
  const out = Buffer.concat([msg.subarray(0, questionEnd), ...[...answer, ...authority, ...additional].map((r) => r.bytes)]);
  out.writeUInt16BE(answer.length, 6);
  out.writeUInt16BE(authority.length, 8);
  out.writeUInt16BE(additional.length, 10);
  return out;
}
