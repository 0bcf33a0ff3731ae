/**
 * RFC 8482 for forwarded ANY: the upstream's answer cut down to one RRset (with its RRSIGs, so a
 * validating stub can check it), or the CNAME (and any DNAME it came from) at a CNAME owner.
 * Negative answers pass untouched: NXDOMAIN/NODATA with the SOA and, for DO=1, the proofs.
 */
import type { Buffer } from 'node:buffer';
import { Rcode, RRType } from './constants.js';
import { skipName } from './name.js';
import { assemble, readSections, type WireRecord } from './records.js';

export function minimalAny(msg: Buffer, qname: string): Buffer {
  if (msg.length < 12 || (msg[3] & 0x0f) !== Rcode.NOERROR || msg.readUInt16BE(6) === 0) return msg;
  const s = readSections(msg);
  if (s === null) return msg;
  const own = s.answer.filter((r) => r.owner === qname);
  const rrset = (type: number, owner?: string) => s.answer.filter((r) =>
    (owner === undefined || r.owner === owner) && (r.type === type || (r.type === RRType.RRSIG && r.covers === type)));
  let keep: WireRecord[];
  if (own.some((r) => r.type === RRType.CNAME)) {
    keep = [...rrset(RRType.DNAME), ...rrset(RRType.CNAME, qname)];
  } else {
    const first = own.find((r) => r.type !== RRType.RRSIG);
    if (first === undefined) return msg;
    keep = rrset(first.type, qname);
  }
  // A wildcard-expanded answer needs its NSEC/NSEC3 proof (RFC 4035 §3.1.3.3).
  const proofs = s.authority.filter((r) => r.type === RRType.NSEC || r.type === RRType.NSEC3
    || (r.type === RRType.RRSIG && (r.covers === RRType.NSEC || r.covers === RRType.NSEC3)));
  const questionEnd = skipName(msg, 12) + 4;
  return assemble(msg, questionEnd, keep, proofs, []);
}
