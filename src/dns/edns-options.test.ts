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

  it('finds the smallest answer TTL', () => {
    expect(minTtl(makeQuery('a.example'))).toBe(0);
  });
});
