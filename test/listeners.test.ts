/**
 * Listener and upstream behaviour with real clients (dig, raw sockets) and small real DNS peers
 * on loopback (DnsFixture) that count, delay, stay silent or spoof.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from './helpers/dig.js';
import { DnsFixture, SPOOFED_ADDRESS } from './helpers/dns-fixture.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { decode, makeQuery } from './helpers/packets.js';
import { freePort } from './helpers/ports.js';
import { frameOf, TcpClient, udpExchange } from './helpers/raw-client.js';
import { missing } from './helpers/system.js';

const skip = missing('dig');

describe.skipIf(skip)('listeners, ACL and upstream hygiene', () => {
  let main: DnsFixture;
  let slow: DnsFixture;
  let spoof: DnsFixture;
  let silent: DnsFixture;
  let edge: EdgednsProcess;
  let port: number;
  const q = (...args: string[]) => dig(['@127.0.0.1', '-p', String(port), ...args]);

  beforeAll(async () => {
    const answers: Record<string, [string, number]> = { 'www.fixture.example': ['192.0.2.50', 300], 'slow.example': ['192.0.2.51', 300], 'spoof.example': ['192.0.2.52', 300], 'fo.failover.example': ['192.0.2.53', 300] };
    [main, slow, spoof, silent] = await Promise.all([
      DnsFixture.start({ answers }), DnsFixture.start({ answers, delayMs: 200 }), DnsFixture.start({ answers, spoofFirst: true }), DnsFixture.start({ silent: true }),
    ]);
    port = await freePort();
    edge = await EdgednsProcess.start(`
listen:
  - { address: 127.0.0.1, port: ${port} }
acl:
  - { from: 127.0.0.2/32, action: refuse }
  - { from: 127.0.0.3/32, action: drop }
  - { from: 127.0.0.0/8, action: allow }
zone:
  domain: home.arpa
  records:
    - { name: gw, type: A, value: 10.0.0.1 }
  reverse: [10.0.0.0/24]
upstreams: [${main.url}]
upstream-timeout: 300ms
forward:
  - { domain: slow.example, upstreams: [${slow.url}] }
  - { domain: spoof.example, upstreams: [${spoof.url}] }
  - { domain: failover.example, upstreams: [${silent.url}, ${main.url}] }
limits:
  tcp-idle-timeout: 1s
  tcp-connections: 3
`);
  });

  afterAll(async () => {
    await edge?.stop();
    await Promise.all([main, slow, spoof, silent].map((f) => f?.close()));
  });

  it('refuses and drops by source address (first match wins)', async () => {
    expect((await q('gw.home.arpa')).status).toBe('NOERROR');
    expect((await q('-b', '127.0.0.2', 'gw.home.arpa')).status).toBe('REFUSED');
    const dropped = await q('-b', '127.0.0.3', 'gw.home.arpa', '+time=1');
    expect(dropped.status).toBe('');
    expect(dropped.raw).toMatch(/timed out/);
    expect((await q('-b', '127.0.0.2', '+tcp', 'gw.home.arpa')).status).toBe('REFUSED');
  });

  it('answers FORMERR or NOTIMP to bad queries and drops what is not a query', async () => {
    expect(await udpExchange(port, Buffer.alloc(5), 300)).toBeNull();
    const two = makeQuery('gw.home.arpa');
    two.writeUInt16BE(2, 4);
    expect(decode((await udpExchange(port, two))!).rcode).toBe('FORMERR');
    const garbage = Buffer.concat([makeQuery('gw.home.arpa').subarray(0, 12), Buffer.from([0x3f, 1, 2])]);
    expect(decode((await udpExchange(port, garbage))!).rcode).toBe('FORMERR');
    const update = makeQuery('gw.home.arpa');
    update[2] = 5 << 3;
    expect(decode((await udpExchange(port, update))!).rcode).toBe('NOTIMP');
    const response = makeQuery('gw.home.arpa');
    response[2] |= 0x80;
    expect(await udpExchange(port, response, 300)).toBeNull();
    expect((await q('gw.home.arpa')).status).toBe('NOERROR');
  });

  it('answers pipelined TCP queries out of order, across arbitrary chunk boundaries', async () => {
    const c = await TcpClient.connect(port);
    const slowQ = makeQuery('slow.example', 'A', { id: 1 });
    const fastQ = makeQuery('gw.home.arpa', 'A', { id: 2 });
    await c.writeByteByByte(Buffer.concat([frameOf(slowQ), frameOf(fastQ)]));
    const replies = await c.waitFor(2);
    expect(replies.map((r) => decode(r).id)).toEqual([2, 1]);
    expect(decode(replies[1]).answers![0].data).toBe('192.0.2.51');
    c.close();
  });

  it('closes idle TCP connections, and at the cap closes the longest-idle one first', async () => {
    const idle = await TcpClient.connect(port);
    expect(await idle.waitClosed(4000)).toBe(true);

    const conns: TcpClient[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await TcpClient.connect(port);
      c.sock.write(frameOf(makeQuery('gw.home.arpa', 'A', { id: 10 + i })));
      await c.waitFor(1);
      conns.push(c);
      await new Promise((r) => setTimeout(r, 50));
    }
    const extra = await TcpClient.connect(port);
    extra.sock.write(frameOf(makeQuery('gw.home.arpa', 'A', { id: 99 })));
    expect(decode((await extra.waitFor(1))[0]).id).toBe(99);
    expect(await conns[0].waitClosed(500)).toBe(true);
    expect(conns[2].closed).toBe(false);
    for (const c of [...conns, extra]) c.close();
  });

  it('never sends local, reverse or special-use names upstream', async () => {
    const before = main.seen.length;
    const results = await Promise.all([
      q('nope.home.arpa'), q('-x', '10.0.0.9'), q('printer.local'), q('localhost'), q('x.invalid'), q('-x', '192.168.7.7'), q('x.onion'), q('-x', 'fd00::1'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['NXDOMAIN', 'NXDOMAIN', 'NXDOMAIN', 'NOERROR', 'NXDOMAIN', 'NXDOMAIN', 'NXDOMAIN', 'NXDOMAIN']);
    expect(results[3].answer[0].data).toBe('127.0.0.1');
    expect(main.seen.length).toBe(before);
  });

  it('spreads upstream queries over its pool of random ports (16 sockets by default), with random IDs', async () => {
    const before = main.seen.length;
    await Promise.all(Array.from({ length: 20 }, (_, i) => q(`r${i}.fixture.example`)));
    const seen = main.seen.slice(before);
    expect(seen).toHaveLength(20);
    expect(new Set(seen.map((s) => s.port)).size).toBeGreaterThanOrEqual(16);
    expect(new Set(seen.map((s) => s.id)).size).toBeGreaterThanOrEqual(18);
  });

  it('ignores an answer whose ID does not match and takes the real one', async () => {
    const r = await q('spoof.example');
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.52']);
    expect(r.raw).not.toContain(SPOOFED_ADDRESS);
  });

  it('coalesces identical questions in flight into one upstream query', async () => {
    const before = slow.seen.length;
    const all = await Promise.all(Array.from({ length: 10 }, () => q('coalesce.slow.example')));
    expect(all.every((r) => r.status === 'NXDOMAIN')).toBe(true);
    expect(slow.seen.length - before).toBe(1);
  });

  it('moves to the next upstream when one times out', async () => {
    const r = await q('fo.failover.example', '+time=3');
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.53']);
    expect(silent.seen.some((s) => s.name === 'fo.failover.example')).toBe(true);
  });

  it('forwards ANY (the upstream answer, cut to one RRset: RFC 8482) and refuses other classes', async () => {
    const any = await q('www.fixture.example', 'ANY');
    expect(main.seen.some((s) => s.name === 'www.fixture.example' && s.type === 'ANY')).toBe(true);
    expect(any.answer.map((a) => a.type)).not.toContain('HINFO');
    expect((await q('nothing.fixture.example', 'ANY')).status).toBe('NXDOMAIN');
    expect((await q('-c', 'CH', 'version.bind', 'TXT')).status).toBe('REFUSED');
  });
});
