import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { decode, makeQuery } from '../../test/helpers/packets.js';
import { parseQuery } from './query.js';
import { errorReply, packAnswer, renderReply } from './reply.js';
import { scanResponse } from './scan.js';

function upstreamAnswer(name: string, ttl: number, count = 1): Buffer {
  return dnsPacket.encode({
    type: 'response', id: 9, flags: dnsPacket.RECURSION_AVAILABLE,
    questions: [{ name, type: 'A', class: 'IN' }],
    answers: Array.from({ length: count }, (_, i) => ({ name, type: 'A' as const, ttl, data: `192.0.2.${i + 1}` })),
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as never],
  });
}

describe('renderReply', () => {
  it('writes the client ID, its name case, aged TTLs and our OPT', () => {
    const scanned = scanResponse(upstreamAnswer('www.example.com', 300))!;
    expect(scanned.body.readUInt16BE(10)).toBe(0); // upstream OPT removed
    const query = makeQuery('WWW.Example.com', 'A', { id: 4242, edns: 1232 });
    const q = parseQuery(query);
    const out = decode(renderReply(packAnswer(scanned.body, scanned.ttlOffsets), q, query, 1232, 7, -1, 0));
    expect(out.id).toBe(4242);
    expect(out.questions![0].name).toBe('WWW.Example.com');
    expect(out.answers![0].ttl).toBe(293);
    expect(out.additionals!.filter((a) => a.type === 'OPT')).toHaveLength(1);
  });

  it('leaves OPT out for a client that sent none, and never goes below TTL 0', () => {
    const scanned = scanResponse(upstreamAnswer('a.example', 5))!;
    const query = makeQuery('a.example');
    const out = decode(renderReply(packAnswer(scanned.body, scanned.ttlOffsets), parseQuery(query), query, 512, 60, -1, 0));
    expect(out.additionals ?? []).toHaveLength(0);
    expect(out.answers![0].ttl).toBe(0);
  });

  it('sets TC with only the question when the answer does not fit', () => {
    const scanned = scanResponse(upstreamAnswer('big.example', 300, 40))!;
    const query = makeQuery('big.example');
    const raw = renderReply(packAnswer(scanned.body, scanned.ttlOffsets), parseQuery(query), query, 512, 0, -1, 0);
    const out = decode(raw);
    expect(raw[2] & 0x02).toBe(0x02);
    expect(out.answers ?? []).toHaveLength(0);
    expect(out.questions![0].name).toBe('big.example');
  });

  it('pads to a 468-byte block when asked and the transport pads', () => {
    const scanned = scanResponse(upstreamAnswer('p.example', 300))!;
    const query = makeQuery('p.example', 'A', { edns: 1232, padding: true });
    const raw = renderReply(packAnswer(scanned.body, scanned.ttlOffsets), parseQuery(query), query, 65535, 0, -1, 468);
    expect(raw.length % 468).toBe(0);
    expect(decode(raw).answers![0].data).toBe('192.0.2.1');
  });

  it('builds error replies that echo the question and the RD bit', () => {
    const query = makeQuery('x.example', 'A', { id: 5 });
    const out = decode(errorReply(query, parseQuery(query), 5));
    expect(out.rcode).toBe('REFUSED');
    expect(out.id).toBe(5);
    expect(out.flags! & dnsPacket.RECURSION_DESIRED).toBeTruthy();
    expect(out.questions![0].name).toBe('x.example');
  });
});

describe('scanResponse', () => {
  it('reads the negative TTL from the SOA: min(TTL, MINIMUM)', () => {
    const nx = dnsPacket.encode({
      type: 'response', id: 1, flags: 3, questions: [{ name: 'no.example', type: 'A' }],
      authorities: [{ name: 'example', type: 'SOA', ttl: 900, data: { mname: 'ns', rname: 'h', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 120 } }],
    });
    const s = scanResponse(nx)!;
    expect(s.rcode).toBe(3);
    expect(s.negativeTtl).toBe(120);
    expect(s.soaIndexes).toEqual([0]);
  });

  it('rejects malformed responses', () => {
    const good = upstreamAnswer('a.example', 1);
    expect(scanResponse(good.subarray(0, good.length - 20))).toBeNull();
    const notResponse = Buffer.from(good);
    notResponse[2] &= 0x7f;
    expect(scanResponse(notResponse)).toBeNull();
  });
});
