/**
 * RFC 2136 UPDATE messages, read and written by hand: dns-packet cannot decode the deletes
 * (records with empty RDATA, class ANY or NONE). The same code builds the UPDATEs edgedns
 * sends to an external primary. Off the hot path.
 */
import { Buffer } from 'node:buffer';
import { ipaddr } from '../cjs.js';
import { CLASS_ANY, CLASS_IN, HEADER_SIZE, Opcode, RRType } from './constants.js';
import { encodeName } from './name.js';
import { readName } from './records.js';

export const CLASS_NONE = 254;
export const RRTYPE_DHCID = 49;

/** RFC 2136 §2.2's rcodes, beside the classic ones in `Rcode`. */
export const UpdateRcode = { YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10 } as const;

export interface UpdateRecord {
  /** dotted, lower case, no trailing dot ("" is the root) */
  name: string;
  type: number;
  cls: number;
  ttl: number;
  /** RDATA with any compressed names expanded; empty for the delete forms */
  rdata: Buffer;
}

export interface UpdateMessage {
  id: number;
  /** the zone section's name (dotted, lower case) and class */
  zone: string;
  zoneClass: number;
  zoneType: number;
  prereqs: UpdateRecord[];
  updates: UpdateRecord[];
  /** offset of the TSIG record (the last additional), -1 when unsigned */
  tsigAt: number;
  /** bytes of the zone section, echoed in the reply */
  zoneSection: Buffer;
}

/** Why a message could not be read: FORMERR, or a drop for what cannot even carry a reply. */
export type UpdateParse = { ok: true; msg: UpdateMessage } | { ok: false; drop: boolean };

export function dotted(name: number[]): string {
  const labels: string[] = [];
  for (let i = 0; i < name.length && name[i] !== 0; i += 1 + name[i]) {
    let s = '';
    for (let j = 1; j <= name[i]; j++) {
      const c = name[i + j];
      s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
    }
    labels.push(s);
  }
  return labels.join('.');
}

/** RDATA layouts whose names may be compressed and are expanded here (RFC 3597 §4). */
const NAME_AT: Record<number, { before: number; names: number }> = {
  [RRType.NS]: { before: 0, names: 1 }, [RRType.CNAME]: { before: 0, names: 1 }, [RRType.PTR]: { before: 0, names: 1 },
  [RRType.SOA]: { before: 0, names: 2 }, [RRType.MX]: { before: 2, names: 1 }, [RRType.SRV]: { before: 6, names: 1 },
};

function readRecord(buf: Buffer, off: number): { rr: UpdateRecord; end: number } | null {
  const owner = readName(buf, off);
  if (owner === null || owner.end + 10 > buf.length) return null;
  const t = owner.end;
  const rdlen = buf.readUInt16BE(t + 8);
  const start = t + 10;
  const end = start + rdlen;
  if (end > buf.length) return null;
  const type = buf.readUInt16BE(t);
  let rdata = Buffer.from(buf.subarray(start, end));
  const layout = NAME_AT[type];
  if (layout !== undefined && rdlen > 0) {
    if (rdlen < layout.before) return null;
    const parts: number[] = [...buf.subarray(start, start + layout.before)];
    let p = start + layout.before;
    for (let n = 0; n < layout.names; n++) {
      const name = readName(buf, p);
      if (name === null || name.end > end) return null;
      for (const b of name.name) parts.push(b);
      p = name.end;
    }
    for (const b of buf.subarray(p, end)) parts.push(b);
    rdata = Buffer.from(parts);
  }
  return { rr: { name: dotted(owner.name), type, cls: buf.readUInt16BE(t + 2), ttl: buf.readUInt32BE(t + 4), rdata }, end };
}

export function parseUpdate(buf: Buffer): UpdateParse {
  if (buf.length < HEADER_SIZE || (buf[2] & 0x80) !== 0) return { ok: false, drop: true };
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  if (counts[0] !== 1) return { ok: false, drop: false };
  const zoneName = readName(buf, HEADER_SIZE);
  if (zoneName === null || zoneName.end + 4 > buf.length) return { ok: false, drop: false };
  const zoneEnd = zoneName.end + 4;
  const sections: UpdateRecord[][] = [[], [], []];
  let off = zoneEnd;
  let tsigAt = -1;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]; i++) {
      const at = off;
      const r = readRecord(buf, off);
      if (r === null) return { ok: false, drop: false };
      if (r.rr.type === RRType.TSIG) {
        if (s !== 2 || i !== counts[3] - 1) return { ok: false, drop: false }; // RFC 8945 §5.1: last, in additional
        tsigAt = at;
      }
      sections[s].push(r.rr);
      off = r.end;
    }
  }
  if (off !== buf.length) return { ok: false, drop: false };
  return {
    ok: true,
    msg: {
      id: buf.readUInt16BE(0),
      zone: dotted(zoneName.name),
      zoneType: buf.readUInt16BE(zoneName.end),
      zoneClass: buf.readUInt16BE(zoneName.end + 2),
      prereqs: sections[0],
      updates: sections[1],
      tsigAt,
      zoneSection: Buffer.from(buf.subarray(HEADER_SIZE, zoneEnd)),
    },
  };
}

/** The reply: the request's ID and zone section, QR, opcode UPDATE and the rcode; no records. */
export function updateReply(request: Buffer, rcode: number): Buffer {
  const zone = readName(request, HEADER_SIZE);
  const zoneEnd = zone !== null && zone.end + 4 <= request.length && request.readUInt16BE(4) === 1 ? zone.end + 4 : HEADER_SIZE;
  const out = Buffer.alloc(zoneEnd);
  request.copy(out, 0, 0, zoneEnd);
  out[2] = 0x80 | (Opcode.UPDATE << 3);
  out[3] = rcode & 0x0f;
  out.writeUInt16BE(zoneEnd > HEADER_SIZE ? 1 : 0, 4);
  out.fill(0, 6, 12);
  return out;
}

/** RDATA → the presentation value the zone stores (ZoneRecord.value); null for types not stored. */
export function rdataToValue(type: number, rdata: Buffer): string | null {
  const name = (at: number): { text: string; end: number } | null => {
    const n = readName(rdata, at);
    return n === null ? null : { text: dotted(n.name), end: n.end };
  };
  switch (type) {
    case RRType.A:
      return rdata.length === 4 ? [...rdata].join('.') : null;
    case RRType.AAAA:
      return rdata.length === 16 ? ipaddr.fromByteArray([...rdata]).toString() : null;
    case RRType.CNAME: case RRType.PTR: case RRType.NS: {
      const n = name(0);
      return n !== null && n.end === rdata.length ? n.text : null;
    }
    case RRType.MX: {
      if (rdata.length < 3) return null;
      const n = name(2);
      return n !== null && n.end === rdata.length ? `${rdata.readUInt16BE(0)} ${n.text}` : null;
    }
    case RRType.SRV: {
      if (rdata.length < 7) return null;
      const n = name(6);
      return n !== null && n.end === rdata.length ? `${rdata.readUInt16BE(0)} ${rdata.readUInt16BE(2)} ${rdata.readUInt16BE(4)} ${n.text}` : null;
    }
    case RRType.TXT: {
      // Character-strings joined: the zone keeps TXT as one string (split at 255 bytes on the way out).
      let s = '';
      for (let p = 0; p < rdata.length;) {
        const l = rdata[p];
        if (p + 1 + l > rdata.length) return null;
        s += rdata.subarray(p + 1, p + 1 + l).toString('utf8');
        p += 1 + l;
      }
      return s;
    }
    case RRTYPE_DHCID:
      return rdata.length >= 3 ? rdata.toString('base64') : null;
    default:
      return null;
  }
}

/** The reverse of `rdataToValue`, for the UPDATEs we send. */
export function valueToRdata(type: number, value: string): Buffer {
  switch (type) {
    case RRType.A: case RRType.AAAA:
      return Buffer.from(ipaddr.parse(value).toByteArray());
    case RRType.CNAME: case RRType.PTR: case RRType.NS:
      return encodeName(value);
    case RRTYPE_DHCID:
      return Buffer.from(value, 'base64');
    case RRType.TXT: {
      const bytes = Buffer.from(value, 'utf8');
      const parts: Buffer[] = [];
      for (let i = 0; i < bytes.length || i === 0; i += 255) {
        const c = bytes.subarray(i, i + 255);
        parts.push(Buffer.from([c.length]), c);
      }
      return Buffer.concat(parts);
    }
    default:
      throw new Error(`no RDATA encoder for type ${type}`);
  }
}

/** An UPDATE message (unsigned): zone section, prerequisites, updates. */
export function buildUpdate(id: number, zone: string, prereqs: UpdateRecord[], updates: UpdateRecord[]): Buffer {
  const rr = (r: UpdateRecord) => {
    const owner = encodeName(r.name);
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(r.type, 0);
    fixed.writeUInt16BE(r.cls, 2);
    fixed.writeUInt32BE(r.ttl, 4);
    fixed.writeUInt16BE(r.rdata.length, 8);
    return Buffer.concat([owner, fixed, r.rdata]);
  };
  const head = Buffer.alloc(HEADER_SIZE);
  head.writeUInt16BE(id, 0);
  head[2] = Opcode.UPDATE << 3;
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(prereqs.length, 6);
  head.writeUInt16BE(updates.length, 8);
  const zq = Buffer.alloc(4);
  zq.writeUInt16BE(RRType.SOA, 0);
  zq.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([head, encodeName(zone), zq, ...prereqs.map(rr), ...updates.map(rr)]);
}

