import { Buffer } from 'node:buffer';
import dgram from 'node:dgram';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { PushClient } from './push-client.js';
import { dhcidFor } from './dhcid.js';
import { desiredFor } from './push-plan.js';

describe('DHCID (RFC 4701)', () => {
  it('gives the RFC\'s own examples (§3.6): DUID, htype + chaddr, client-id', () => {
    // identifiers: 00:01:00:06:41:2d:f1:66:01:02:03:04:05:06, 01 + 01:02:03:04:05:06, 01:07:08:09:0a:0b:0c
    expect(dhcidFor('0002' + '000100064' + '12df166010203040506', 'chi6.example.com')).toBe('AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=');
    expect(dhcidFor('0000' + '01' + '010203040506', 'client.example.com')).toBe('AAABxLmlskllE0MVjd57zHcWmEH3pCQ6VytcKD//7es/deY=');
    expect(dhcidFor('0001' + '0107080' + '90a0b0c', 'chi.example.com')).toBe('AAEBOSD+XR3Os/0LozeXVqcNc7FwCfQdWL3b/NaiUDlW2No=');
  });
});

describe('what a primary should hold', () => {
  const target = { address: '192.0.2.53', port: 53, zone: 'branch.corp.example', reverseZones: ['50.168.192.in-addr.arpa'] };
  it('renames lease names into the primary\'s zone, with PTRs only in its reverse zones', () => {
    const want = desiredFor(target, 'home.arpa', [
      { name: 'printer.home.arpa', type: 'A', address: '192.168.50.10', ttl: 300, client: '0001010203040506' },
      { name: 'printer.home.arpa', type: 'AAAA', address: 'fd00::10', ttl: 300, client: '0002000100' },
      { name: 'far.home.arpa', type: 'A', address: '10.9.9.9', ttl: 300, client: '' },
    ]);
    expect([...want.keys()].sort()).toEqual(['10.50.168.192.in-addr.arpa', 'far.branch.corp.example', 'printer.branch.corp.example']);
    const p = want.get('printer.branch.corp.example')!;
    expect(p.records).toEqual([{ type: 'A', value: '192.168.50.10' }, { type: 'AAAA', value: 'fd00::10' }]);
    expect(p.dhcid).toBe(dhcidFor('0001010203040506', 'printer.branch.corp.example'));
    expect(want.get('10.50.168.192.in-addr.arpa')).toMatchObject({ zone: '50.168.192.in-addr.arpa', records: [{ type: 'PTR', value: 'printer.branch.corp.example' }], dhcid: p.dhcid });
    expect(want.get('far.branch.corp.example')!.dhcid).toMatch(/^\/\/8B/); // no client identity in the row: one from the address (type 0xffff)
  });
});

describe('PushClient', () => {
  // A stand-in primary on loopback (the real one, Knot, is in test/ddns-push.test.ts): it
  // answers each UPDATE with the next rcode of a script and notes where the request came from.
  async function fakePrimary(rcodes: number[]) {
    const sock = dgram.createSocket('udp4');
    const seen: Array<{ from: string; prereqs: number; updates: number }> = [];
    sock.on('message', (m, r) => {
      seen.push({ from: r.address, prereqs: m.readUInt16BE(6), updates: m.readUInt16BE(8) });
      const reply = Buffer.from(m.subarray(0, 12));
      reply[2] |= 0x80;
      reply[3] = rcodes.shift() ?? 0;
      reply.writeUInt32BE(0, 4);
      reply.writeUInt32BE(0, 8);
      sock.send(reply, r.port, r.address);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    return { port: (sock.address() as { port: number }).port, seen, close: () => sock.close() };
  }
  const name = { zone: 'branch.corp.example', records: [{ type: 'A' as const, value: '192.168.50.10' }], ttl: 300, dhcid: dhcidFor('0001aa', 'printer.branch.corp.example') };

  it('sends from the selected uplink\'s address, and leaves a name held for another client alone', async () => {
    const primary = await fakePrimary([6, 8]); // YXDOMAIN, then NXRRSET: the DHCID there is not ours
    let saved = 0;
    const client = new PushClient({ address: '127.0.0.1', port: primary.port, zone: 'branch.corp.example', reverseZones: [] }, new Map(), {
      key: () => undefined, source: () => '127.0.0.3', persist: () => saved++, now: () => Date.now(), log: pino({ level: 'silent' }),
    });
    client.setWant(new Map([['printer.branch.corp.example', name]]));
    for (let i = 0; i < 50 && client.status().pending > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(primary.seen.map((s) => s.from)).toEqual(['127.0.0.3', '127.0.0.3']);
    expect(primary.seen.map((s) => [s.prereqs, s.updates])).toEqual([[1, 2], [1, 3]]); // add A + DHCID; then replace: delete A, AAAA, add A
    expect(client.status()).toMatchObject({ pending: 0, held: 0, conflicts: 1, conflicted: ['printer.branch.corp.example'] });
    client.setWant(new Map([['printer.branch.corp.example', name]])); // the same lease again: not retried
    await new Promise((r) => setTimeout(r, 50));
    expect(primary.seen).toHaveLength(2);
    expect(saved).toBeGreaterThan(0);
    client.stop();
    primary.close();
  });
});
