/** A minimal query (RD off, no EDNS) for probes and checks: header, one question. */
import { Buffer } from 'node:buffer';
import { CLASS_IN } from './constants.js';
import { encodeName } from './name.js';

export function makeQuery(name: string, qtype: number, id: number): Buffer {
  const qname = encodeName(name);
  const out = Buffer.alloc(12 + qname.length + 4);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(1, 4);
  qname.copy(out, 12);
  out.writeUInt16BE(qtype, 12 + qname.length);
  out.writeUInt16BE(CLASS_IN, 14 + qname.length);
  return out;
}
