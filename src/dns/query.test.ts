import { describe, expect, it } from 'vitest';
import { makeQuery } from '../../test/helpers/packets.js';
import { ParseStatus, parseQuery } from './query.js';
import { wireKey } from './name.js';
import { hashString, KEY_SEED } from '../string-table.js';

describe('parseQuery', () => {
  it('reads the question by offset and lower-cases the key', () => {
    const q = parseQuery(makeQuery('WwW.Example.COM', 'AAAA', { id: 77 }));
    expect(q.status).toBe(ParseStatus.OK);
    expect(q.id).toBe(77);
    expect(q.qtype).toBe(28);
    expect(q.qclass).toBe(1);
    expect(q.name).toBe(wireKey('www.example.com'));
    expect(q.key.startsWith(q.name)).toBe(true);
    expect(q.key.length).toBe(q.name.length + 5);
  });

  it('hashes the key once, as the tables it is looked up in would (KEY_SEED), whatever the case the client sent', () => {
    for (const [name, type] of [['WwW.Example.COM', 'AAAA'], ['a.b', 'A'], ['x.' + 'y'.repeat(60) + '.test', 'TXT']]) {
      const q = parseQuery(makeQuery(name, type, { edns: 1232, dnssecOk: name === 'a.b' }));
      expect(q.keyHash).toBe(hashString(KEY_SEED, q.key));
      expect(parseQuery(makeQuery(name.toLowerCase(), type, { edns: 1232, dnssecOk: name === 'a.b' })).keyHash).toBe(q.keyHash);
    }
    expect(parseQuery(makeQuery('a.b', 'A')).keyHash).not.toBe(parseQuery(makeQuery('a.b', 'AAAA')).keyHash);
  });

  it('separates cache keys by type and by DO bit', () => {
    const a = parseQuery(makeQuery('x.example', 'A', { edns: 1232 }));
    const aaaa = parseQuery(makeQuery('x.example', 'AAAA', { edns: 1232 }));
    const ado = parseQuery(makeQuery('x.example', 'A', { edns: 1232, dnssecOk: true }));
    expect(new Set([a.key, aaaa.key, ado.key]).size).toBe(3);
    expect(ado.dnssecOk).toBe(true);
  });

  it('reads EDNS: payload size clamped to 512..1232, padding option', () => {
    expect(parseQuery(makeQuery('a.b', 'A', { edns: 4096 })).udpSize).toBe(1232);
    expect(parseQuery(makeQuery('a.b', 'A', { edns: 100 })).udpSize).toBe(512);
    const noEdns = parseQuery(makeQuery('a.b'));
    expect(noEdns.edns).toBe(false);
    expect(noEdns.udpSize).toBe(512);
    expect(parseQuery(makeQuery('a.b', 'A', { edns: 1232, padding: true })).padding).toBe(true);
  });

  it('drops packets shorter than a header and responses', () => {
    expect(parseQuery(Buffer.alloc(11)).status).toBe(ParseStatus.DROP);
    const resp = makeQuery('a.b');
    resp[2] |= 0x80;
    expect(parseQuery(resp).status).toBe(ParseStatus.DROP);
  });

  it('answers FORMERR for bad questions and parses other opcodes for their NOTIMP/REFUSED', () => {
    const two = makeQuery('a.b');
    two.writeUInt16BE(2, 4);
    expect(parseQuery(two).status).toBe(ParseStatus.FORMERR);
    const zero = makeQuery('a.b');
    zero.writeUInt16BE(0, 4);
    expect(parseQuery(zero).status).toBe(ParseStatus.FORMERR);
    const cut = makeQuery('abc.example').subarray(0, 16);
    expect(parseQuery(cut).status).toBe(ParseStatus.FORMERR);
    const ptr = Buffer.from(makeQuery('a.b'));
    ptr[12] = 0xc0; ptr[13] = 12; // a pointer to itself
    expect(parseQuery(ptr).status).toBe(ParseStatus.FORMERR);
    const update = makeQuery('a.b');
    update[2] = (5 << 3); // opcode UPDATE
    const u = parseQuery(update);
    expect(u.status).toBe(ParseStatus.OPCODE);
    expect(u.questionEnd).toBe(update.length); // the zone section is parsed, so the reply echoes it
  });

  it('flags EDNS versions other than 0 for BADVERS and rejects two OPT records', () => {
    const v1 = makeQuery('a.b', 'A', { edns: 1232 });
    v1[v1.length - 5] = 1; // version byte of the OPT's TTL field
    expect(parseQuery(v1).status).toBe(ParseStatus.BADVERS);
    const q = makeQuery('a.b', 'A', { edns: 1232 });
    const opt = q.subarray(q.length - 11);
    const twice = Buffer.concat([q, opt]);
    twice.writeUInt16BE(2, 10);
    expect(parseQuery(twice).status).toBe(ParseStatus.FORMERR);
  });
});
