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
    const { bytes, start, end, bodyLen } = s.packed;
    expect(start).toBe(0);
    expect(end).toBe(bodyLen + 2 * 2); // the body, then two bytes per TTL field
    expect(bytes.readUInt16BE(10)).toBe(0); // OPT gone
    expect(bodyLen).toBe(wire.length - 11); // less the OPT record
    const offsets = [0, 1].map((i) => bytes.readUInt16BE(bodyLen + 2 * i));
    expect(offsets.map((o) => bytes.readUInt32BE(o))).toEqual([300, 0]);
    expect([0, 1].map((i) => s.ttlAt(i))).toEqual(offsets);
  });
});
