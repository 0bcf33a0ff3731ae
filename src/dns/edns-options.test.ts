import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { decode, makeQuery } from '../../test/helpers/packets.js';
import { minTtl, withQueryOptions } from './edns-options.js';
import { parseQuery } from './query.js';

describe('EDNS options on outgoing queries', () => {
  it('pads a query to a multiple of 128 bytes and asks for TCP keepalive', () => {
    const q = makeQuery('www.example.com', 'A', { edns: 1232 });
    const out = withQueryOptions(q, { keepalive: true, padBlock: 128 });
    expect(out.length % 128).toBe(0);
    const opt = decode(out).additionals!.find((a) => a.type === 'OPT') as unknown as { options: Array<{ code: number }> };
    expect(opt.options.map((o) => o.code)).toEqual([11, 12]);
    expect(parseQuery(out).padding).toBe(true);
  });

  it('leaves a query without OPT alone', () => {
    const q = makeQuery('a.example');
    expect(withQueryOptions(q, { padBlock: 128 })).toBe(q);
  });

  it('finds the smallest TTL of the answer and authority records', () => {
    expect(minTtl(makeQuery('a.example'))).toBe(0); // no records
    const reply = dnsPacket.encode({
      type: 'response', id: 1, flags: 0x8180, questions: [{ name: 'a.example', type: 'A' }],
      answers: [{ name: 'a.example', type: 'A', ttl: 300, data: '192.0.2.1' }, { name: 'a.example', type: 'A', ttl: 60, data: '192.0.2.2' }],
      authorities: [{ name: 'example', type: 'NS', ttl: 900, data: 'ns.example' }],
    });
    expect(minTtl(reply)).toBe(60);
  });
});
