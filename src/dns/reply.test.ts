import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { decode, makeQuery } from '../../test/helpers/packets.js';
import { parseQuery } from './query.js';
import { errorReply, renderReply } from './reply.js';
import { scanResponse } from './scan.js';
import { minimalAny } from './minimal-any.js';
import { wireKey } from './name.js';

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
    expect(scanned.packed.bytes.readUInt16BE(10)).toBe(0); // upstream OPT removed
    const query = makeQuery('WWW.Example.com', 'A', { id: 4242, edns: 1232 });
    const q = parseQuery(query);
    const out = decode(renderReply(scanned.packed, q, query, 1232, 7, -1, 0));
    expect(out.id).toBe(4242);
    expect(out.questions![0].name).toBe('WWW.Example.com');
    expect(out.answers![0].ttl).toBe(293);
    expect(out.additionals!.filter((a) => a.type === 'OPT')).toHaveLength(1);
  });

  it('leaves OPT out for a client that sent none, and never goes below TTL 0', () => {
    const scanned = scanResponse(upstreamAnswer('a.example', 5))!;
    const query = makeQuery('a.example');
    const out = decode(renderReply(scanned.packed, parseQuery(query), query, 512, 60, -1, 0));
    expect(out.additionals ?? []).toHaveLength(0);
    expect(out.answers![0].ttl).toBe(0);
  });

  it('sets TC with only the question when the answer does not fit', () => {
    const scanned = scanResponse(upstreamAnswer('big.example', 300, 40))!;
    const query = makeQuery('big.example');
    const raw = renderReply(scanned.packed, parseQuery(query), query, 512, 0, -1, 0);
    const out = decode(raw);
    expect(raw[2] & 0x02).toBe(0x02);
    expect(out.answers ?? []).toHaveLength(0);
    expect(out.questions![0].name).toBe('big.example');
  });

  it('pads to a 468-byte block when asked and the transport pads', () => {
    const scanned = scanResponse(upstreamAnswer('p.example', 300))!;
    const query = makeQuery('p.example', 'A', { edns: 1232, padding: true });
    const raw = renderReply(scanned.packed, parseQuery(query), query, 65535, 0, -1, 468);
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

describe('fitting an answer (RFC 2181 §9)', () => {
  const mx = (withProof = false) => scanResponse(dnsPacket.encode({
    type: 'response', id: 1, flags: dnsPacket.RECURSION_AVAILABLE, questions: [{ name: 'mx.example', type: 'MX' }],
    answers: [1, 2, 3].map((i) => ({ name: 'mx.example', type: 'MX' as const, ttl: 300, data: { preference: i, exchange: `mail${i}.mx.example` } })),
    authorities: [
      { name: 'mx.example', type: 'NS', ttl: 300, data: 'ns.mx.example' },
      ...(withProof ? [{ name: 'mx.example', type: 'NSEC' as const, ttl: 300, data: { nextDomain: 'z.mx.example', rrtypes: ['MX'] } }] : []),
    ],
    additionals: [1, 2, 3].flatMap((i) => [
      { name: `mail${i}.mx.example`, type: 'TXT' as const, ttl: 300, data: 'x'.repeat(120) },
    ]),
  }))!;

  it('drops the additional section, then unneeded authority, before it sets TC', () => {
    const s = mx();
    const query = makeQuery('mx.example', 'MX', { edns: 512 });
    const q = parseQuery(query);
    const whole = renderReply(s.packed, q, query, 1232, 0, -1, 0);
    expect(whole.length).toBeGreaterThan(400);
    const noAdditional = decode(renderReply(s.packed, q, query, whole.length - 100, 0, -1, 0));
    expect(noAdditional.answers).toHaveLength(3);
    expect(noAdditional.authorities).toHaveLength(1);
    expect(noAdditional.additionals!.map((a) => a.type)).toEqual(['OPT']);
    const answerOnly = renderReply(s.packed, q, query, 200, 0, -1, 0);
    expect(answerOnly[2] & 0x02).toBe(0);
    expect(decode(answerOnly).answers).toHaveLength(3);
    expect(decode(answerOnly).authorities ?? []).toHaveLength(0);
    const tc = renderReply(s.packed, q, query, 60, 0, -1, 0);
    expect(tc[2] & 0x02).toBe(0x02);
  });

  it('keeps an NSEC proof in authority (a wildcard answer needs it) and truncates instead', () => {
    const s = mx(true);
    const query = makeQuery('mx.example', 'MX', { edns: 512 });
    const q = parseQuery(query);
    const additional = 3 * (18 + 10 + 121); // the three TXT records
    const withAuthority = renderReply(s.packed, q, query, 1232, 0, -1, 0).length - additional;
    const kept = decode(renderReply(s.packed, q, query, withAuthority, 0, -1, 0));
    expect(kept.authorities!.map((a) => a.type)).toEqual(['NS', 'NSEC']);
    const out = renderReply(s.packed, q, query, withAuthority - 1, 0, -1, 0);
    expect(out[2] & 0x02).toBe(0x02);
  });

  it('sets RA and copies CD on every reply', () => {
    const s = mx();
    const query = makeQuery('mx.example', 'MX');
    query[3] = 0x10;
    s.packed.bytes[3] &= 0x7f; // an upstream that said RA=0
    const out = renderReply(s.packed, parseQuery(query), query, 65535, 0, -1, 0);
    expect(out[3] & 0x90).toBe(0x90);
    expect(errorReply(query, parseQuery(query), 2)[3] & 0x90).toBe(0x90);
  });
});

describe('minimalAny (RFC 8482)', () => {
  const any = (answers: object[]) => dnsPacket.encode({
    type: 'response', id: 1, flags: 0, questions: [{ name: 'h.example', type: 'ANY' as never }], answers: answers as never,
    authorities: [{ name: 'example', type: 'NS', ttl: 300, data: 'ns.example' }],
  });

  it('keeps one RRset and its RRSIGs, drops the rest and keeps names intact', () => {
    const sig = (covers: string) => ({ name: 'h.example', type: 'RRSIG', ttl: 300, data: {
      typeCovered: covers, algorithm: 13, labels: 2, originalTTL: 300, expiration: 2, inception: 1, keyTag: 7, signersName: 'example', signature: Buffer.alloc(64, 1),
    } });
    const out = decode(minimalAny(any([
      { name: 'h.example', type: 'A', ttl: 300, data: '192.0.2.1' }, sig('A'),
      { name: 'h.example', type: 'MX', ttl: 300, data: { preference: 1, exchange: 'mail.h.example' } }, sig('MX'),
      { name: 'h.example', type: 'A', ttl: 300, data: '192.0.2.2' },
    ]), wireKey('h.example')));
    expect(out.answers!.map((a) => a.type)).toEqual(['A', 'RRSIG', 'A']);
    expect(out.answers![1].data.typeCovered).toBe('A');
    expect(out.authorities ?? []).toHaveLength(0);
  });

  it('answers the CNAME at a CNAME owner and passes negative answers untouched', () => {
    const c = decode(minimalAny(any([
      { name: 'h.example', type: 'CNAME', ttl: 300, data: 't.example' }, { name: 't.example', type: 'A', ttl: 300, data: '192.0.2.9' },
    ]), wireKey('h.example')));
    expect(c.answers!.map((a) => [a.type, a.data])).toEqual([['CNAME', 't.example']]);
    const nx = Buffer.from(any([]));
    nx[3] |= 3;
    expect(minimalAny(nx, wireKey('h.example'))).toBe(nx);
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
