import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { dnsPacket } from '../cjs.js';
import { questionEnd, sameQuestion, scanResponse } from './scan.js';

const query = (name: string, type: 'A' | 'AAAA' = 'A') => dnsPacket.encode({ type: 'query', id: 1, questions: [{ type, name }] });

describe('sameQuestion', () => {
  it('matches names case-insensitively but types and classes exactly', () => {
    expect(sameQuestion(query('www.Example.ORG'), query('WWW.example.org'))).toBe(true);
    expect(sameQuestion(query('www.example.org'), query('www.example.org', 'AAAA'))).toBe(false);
    expect(sameQuestion(query('www.example.org'), query('ww.wexample.org'))).toBe(false);
    expect(sameQuestion(query('www.example.org'), query('www.example.or'))).toBe(false);
  });

  it('is false for a truncated or compressed question', () => {
    const q = query('www.example.org');
    expect(sameQuestion(q, q.subarray(0, q.length - 2))).toBe(false);
    const compressed = Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
    expect(questionEnd(compressed)).toBe(-1);
    expect(sameQuestion(compressed, compressed)).toBe(false);
  });
});

describe('scanResponse', () => {
  it('writes the body and its TTL offsets in one buffer, a top-bit TTL as 0', () => {
    const wire = dnsPacket.encode({
      type: 'response', id: 1, flags: 0x8180, questions: [{ type: 'A', name: 'a.example' }],
      answers: [{ type: 'A', name: 'a.example', ttl: 300, data: '192.0.2.1' }, { type: 'A', name: 'a.example', ttl: 0x80000001, data: '192.0.2.2' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 }],
    } as never);
    const s = scanResponse(wire)!;
    expect(s.body.readUInt16BE(10)).toBe(0); // OPT gone
    expect(s.packed.bodyLen).toBe(s.body.length);
    expect(s.packed.bytes.subarray(0, s.body.length)).toEqual(s.body);
    expect([...s.ttlOffsets].map((o) => s.body.readUInt32BE(o))).toEqual([300, 0]);
    expect([0, 1].map((i) => s.packed.bytes.readUInt16BE(s.body.length + 2 * i))).toEqual([...s.ttlOffsets]);
  });
});
