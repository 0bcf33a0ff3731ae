import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { CLASS_ANY, CLASS_IN, RRType } from '../dns/constants.js';
import { buildUpdate, CLASS_NONE, parseUpdate, UpdateRcode, valueToRdata } from '../dns/update-message.js';
import type { ZoneRecord } from '../zone/records.js';
import { applyUpdate } from './update-engine.js';

const rule = { names: ['*.home.arpa'], types: [RRType.A, RRType.TXT] };
const rr = (name: string, type: number, cls: number, ttl: number, value?: string) =>
  ({ name, type, cls, ttl, rdata: value === undefined ? Buffer.alloc(0) : valueToRdata(type, value) });

function view(served: Record<string, Record<string, string[]>>) {
  const toMap = (o: Record<string, string[]> | undefined) => o === undefined ? undefined
    : new Map(Object.entries(o).map(([t, vs]) => [t, vs.map((value): ZoneRecord => ({ name: 'x', type: t as ZoneRecord['type'], ttl: 60, value, origin: 'ddns' }))]));
  return { served: (o: string) => toMap(served[o]), dynamic: (o: string) => toMap(served[o]) };
}

describe('UPDATE messages', () => {
  it('parses deletes with empty RDATA, and never throws on cut or flipped bytes', () => {
    const m = buildUpdate(7, 'home.arpa', [rr('a.home.arpa', RRType.ANY, CLASS_NONE, 0)], [rr('a.home.arpa', RRType.A, CLASS_ANY, 0), rr('a.home.arpa', RRType.A, CLASS_IN, 60, '10.0.0.1')]);
    const p = parseUpdate(m);
    expect(p.ok && p.msg.updates.map((u) => u.rdata.length)).toEqual([0, 4]);
    for (let i = 0; i < m.length; i++) {
      expect(() => parseUpdate(m.subarray(0, i))).not.toThrow();
      const flipped = Buffer.from(m);
      flipped[i] ^= 0xff;
      expect(() => parseUpdate(flipped)).not.toThrow();
    }
    const loop = Buffer.from(m);
    loop.writeUInt16BE(0xc00c, 12); // the zone name points at itself
    expect(parseUpdate(loop).ok).toBe(false);
  });

  it('applies all of a message or none of it', () => {
    const msg = (prereqs: ReturnType<typeof rr>[], updates: ReturnType<typeof rr>[]) => {
      const p = parseUpdate(buildUpdate(1, 'home.arpa', prereqs, updates));
      if (!p.ok) throw new Error('parse');
      return p.msg;
    };
    const v = view({ 'a.home.arpa': { A: ['10.0.0.1'] } });
    expect(applyUpdate(msg([rr('a.home.arpa', RRType.ANY, CLASS_NONE, 0)], [rr('a.home.arpa', RRType.A, CLASS_IN, 60, '10.0.0.2')]), rule, v).rcode).toBe(UpdateRcode.YXDOMAIN);
    const mixed = applyUpdate(msg([], [rr('b.home.arpa', RRType.A, CLASS_IN, 60, '10.0.0.3'), rr('b.home.arpa', RRType.MX, CLASS_IN, 60, undefined)]), rule, v);
    expect(mixed.rcode).not.toBe(0);
    expect(mixed.changes).toEqual([]);
    const ok = applyUpdate(msg([rr('a.home.arpa', RRType.A, CLASS_IN, 0, '10.0.0.1')], [rr('a.home.arpa', RRType.A, CLASS_NONE, 0, '10.0.0.1'), rr('a.home.arpa', RRType.A, CLASS_IN, 60, '10.0.0.9')]), rule, v);
    expect(ok).toMatchObject({ rcode: 0, changes: [{ owner: 'a.home.arpa', type: 'A', records: [{ ttl: 60, value: '10.0.0.9' }] }] });
    expect(applyUpdate(msg([], [rr('a.other.example', RRType.A, CLASS_IN, 60, '10.0.0.1')]), rule, v).rcode).toBe(UpdateRcode.NOTZONE);
  });
});
