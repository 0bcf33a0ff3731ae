import { Buffer } from 'node:buffer';
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeQuery } from '../../test/helpers/packets.js';
import { UdpTransport } from './udp-transport.js';
import type { Transport } from './transport.js';
import { nativeUdp } from '../host/native-udp.js';

// A stand-in upstream on loopback that answers every query (the real upstreams, Unbound and
// NSD, are in the integration tests); it notes the source port of each query.
describe('the upstream UDP socket pool', () => {
  let server: dgram.Socket;
  let port: number;
  const ports: number[] = [];
  let spoofFirst = false;
  beforeAll(async () => {
    server = dgram.createSocket('udp4');
    server.on('message', (m, r) => {
      ports.push(r.port);
      const reply = Buffer.from(m);
      reply[2] |= 0x80;
      if (spoofFirst) {
        const wrong = Buffer.from(reply);
        wrong[13] = 0x7a; // the same ID, another question: must be ignored
        server.send(wrong, r.port, r.address);
        const other = Buffer.from(reply);
        other.writeUInt16BE(reply.readUInt16BE(0) ^ 1, 0); // another ID: not even seen by this query
        server.send(other, r.port, r.address);
      }
      server.send(reply, r.port, r.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => server.close());

  const noTcp = { protocol: 'tcp', query: () => Promise.reject(new Error('no tcp')), close: () => undefined } as unknown as Transport;

  it('shares a few sockets across queries in flight and rotates them after so many queries', async () => {
    const t = new UdpTransport('127.0.0.1', port, noTcp, {}, false, { sockets: 4, queriesPerSocket: 5, socketLifetimeMs: 60_000 });
    ports.length = 0;
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => t.query(makeQuery(`n${i}.example`, 'A'), 2000)));
    expect(answers).toHaveLength(40);
    // 40 queries, 5 per socket: 8 sockets over time, never 40, and never only one port.
    expect(t.pool.opened).toBe(8);
    expect(new Set(ports).size).toBe(8);
    // every answer is the one to its own question
    answers.forEach((a, i) => expect(a.subarray(13, 13 + `n${i}`.length).toString()).toBe(`n${i}`));
    t.close();
  });

  it('hands a retired native socket\'s buffers to a later socket, and each socket still reads only its own answers', async () => {
    const t = new UdpTransport('127.0.0.1', port, noTcp, {}, false, { sockets: 3, queriesPerSocket: 4, socketLifetimeMs: 60_000 });
    // waves: each wave's sockets are retired (4 queries each) and close before the next wave opens its own
    for (let wave = 0; wave < 6; wave++) {
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => t.query(makeQuery(`w${wave}x${i}.example`, 'A'), 2000)));
      answers.forEach((a, i) => expect(a.subarray(13, 13 + `w${wave}x${i}`.length).toString()).toBe(`w${wave}x${i}`));
    }
    expect(t.pool.opened).toBe(18);
    if (t.pool.io === 'recvmmsg') expect(t.pool.reusedBuffers).toBeGreaterThanOrEqual(12);
    else expect(t.pool.reusedBuffers).toBe(0);
    t.close();
  });

  it('retires a socket after its lifetime, and ignores replies to another question or ID', async () => {
    const t = new UdpTransport('127.0.0.1', port, noTcp, {}, false, { sockets: 1, queriesPerSocket: 1000, socketLifetimeMs: 50 });
    spoofFirst = true;
    expect((await t.query(makeQuery('a.example', 'A'), 2000))[13]).toBe(0x61);
    await new Promise((r) => setTimeout(r, 80));
    expect((await t.query(makeQuery('b.example', 'A'), 2000))[13]).toBe(0x62);
    spoofFirst = false;
    expect(t.pool.opened).toBe(2);
    t.close();
  });

  it('takes the native path when the addon is built (recvmmsg batches, one sendmmsg per turn), node:dgram otherwise', async () => {
    const want = nativeUdp().addon !== null ? 'recvmmsg' : 'dgram';
    if (process.env.EDGEDNS_REQUIRE_SYSTEM === '1' && process.env.EDGEDNS_UDP_IO !== 'dgram') expect(want).toBe('recvmmsg');
    const t = new UdpTransport('127.0.0.1', port, noTcp, {}, false, { sockets: 2, queriesPerSocket: 1000, socketLifetimeMs: 60_000 });
    expect(t.pool.io).toBe(want);
    // a burst in one turn: every query gets its own answer whichever path carried it
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => t.query(makeQuery(`b${i}.example`, 'A'), 2000)));
    answers.forEach((a, i) => expect(a.subarray(13, 13 + `b${i}`.length).toString()).toBe(`b${i}`));
    expect(t.pool.opened).toBe(2);
    t.close();
  });

  it('fails a query at once when nothing listens upstream (the connected socket hears the ICMP error), on both paths', async () => {
    const closed = dgram.createSocket('udp4');
    await new Promise<void>((r) => closed.bind(0, '127.0.0.1', () => r()));
    const deadPort = (closed.address() as { port: number }).port;
    closed.close();
    const t = new UdpTransport('127.0.0.1', deadPort, noTcp, {}, false, { sockets: 1, queriesPerSocket: 1000, socketLifetimeMs: 60_000 });
    const err = await t.query(makeQuery('x.example', 'A'), 5000).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/ECONNREFUSED/); // not "did not answer in 5000 ms"
    // and the next query gets a new socket, which fails the same way
    const again = await t.query(makeQuery('y.example', 'A'), 5000).then(() => null, (e: Error) => e);
    expect(again?.message).toMatch(/ECONNREFUSED/);
    t.close();
  });
});
