/** Building and reading packets in tests with dns-packet (the general decoder, fine off the hot path). */
import dnsPacket, { type Packet } from 'dns-packet';

export function makeQuery(name: string, type = 'A', opts: { id?: number; edns?: number; dnssecOk?: boolean; rd?: boolean; padding?: boolean } = {}): Buffer {
  const additionals = opts.edns !== undefined ? [{
    type: 'OPT' as const, name: '.', udpPayloadSize: opts.edns, flags: opts.dnssecOk ? dnsPacket.DNSSEC_OK : 0,
    options: opts.padding ? [{ code: 12, data: Buffer.alloc(0) }] : [],
  }] : [];
  return dnsPacket.encode({
    type: 'query', id: opts.id ?? 0x1234, flags: opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: 'IN' }], additionals: additionals as Packet['additionals'],
  });
}

/** A decoded record, loosely typed: tests read whichever fields the record type has. */
export interface LooseRecord {
  name: string;
  type: string;
  ttl?: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data?: any;
}

export interface DecodedPacket {
  id?: number;
  flags?: number;
  rcode?: string;
  questions?: Array<{ name: string; type: string }>;
  answers?: LooseRecord[];
  authorities?: LooseRecord[];
  additionals?: LooseRecord[];
}

export function decode(buf: Buffer): DecodedPacket {
  return dnsPacket.decode(buf) as unknown as DecodedPacket;
}
