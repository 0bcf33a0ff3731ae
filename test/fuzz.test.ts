/**
 * 100,000 random and mutated packets against a running edgedns over UDP (and some over TCP);
 * after every batch the server must still answer a valid query. The upstream is a loopback
 * peer, so the fuzzed names that parse never leave the machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { DnsFixture } from './helpers/dns-fixture.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { mutatedPacket, prng } from './helpers/mutate.js';
import { decode, makeQuery } from './helpers/packets.js';
import { freePort } from './helpers/ports.js';
import { frameOf, TcpClient, udpExchange } from './helpers/raw-client.js';
import { parseQuery } from '../src/dns/query.js';
import { scanResponse } from '../src/dns/scan.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const BATCHES = 10;
const PER_BATCH = 10_000;

describe('fuzzing', () => {
  it('the pure parsers never throw on 100,000 mutated packets', () => {
    const rand = prng(SEED);
    for (let i = 0; i < 100_000; i++) {
      const p = mutatedPacket(rand);
      const q = parseQuery(p);
      if (q.status === 0) expect(q.key.length).toBe(q.name.length + 5);
      scanResponse(p);
    }
  });

  describe('a running server', () => {
    let upstream: DnsFixture;
    let edge: EdgednsProcess;
    let port: number;

    beforeAll(async () => {
      upstream = await DnsFixture.start({ answers: {} });
      port = await freePort();
      edge = await EdgednsProcess.start(`
listen:
  - { address: 127.0.0.1, port: ${port} }
zone:
  records:
    - { name: gw, type: A, value: 10.0.0.1 }
  reverse: [10.0.0.0/24]
upstreams: [${upstream.url}]
upstream-timeout: 200ms
`);
    });

    afterAll(async () => {
      await edge?.stop();
      await upstream?.close();
    });

    it(`keeps answering through ${BATCHES * PER_BATCH} fuzzed UDP packets (seed ${SEED})`, { timeout: 120_000 }, async () => {
      const rand = prng(SEED);
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      sock.on('message', () => undefined);
      try {
        for (let b = 0; b < BATCHES; b++) {
          for (let i = 0; i < PER_BATCH; i++) {
            sock.send(mutatedPacket(rand), port, '127.0.0.1');
            if (i % 200 === 199) await new Promise((r) => setTimeout(r, 2));
          }
          const reply = await udpExchange(port, makeQuery('gw.home.arpa', 'A', { id: b }), 3000);
          expect(reply, `no answer after batch ${b}`).not.toBeNull();
          expect(decode(reply!).answers![0].data).toBe('10.0.0.1');
        }
      } finally {
        sock.close();
      }
      expect(edge.running).toBe(true);
      expect(edge.logs.filter((l) => l.includes('query handling failed'))).toEqual([]);
    });

    it('keeps answering through fuzzed TCP streams', { timeout: 60_000 }, async () => {
      const rand = prng(SEED + 1);
      for (let c = 0; c < 20; c++) {
        const client = await TcpClient.connect(port);
        const junk = Buffer.concat(Array.from({ length: 100 }, () => frameOf(mutatedPacket(rand))));
        client.sock.write(junk);
        client.sock.write(frameOf(makeQuery('gw.home.arpa', 'A', { id: 4242 })));
        const replies = await client.waitFor(1, 3000);
        client.close();
        expect(replies.length).toBeGreaterThan(0);
      }
      const reply = await udpExchange(port, makeQuery('gw.home.arpa', 'A', { id: 1 }), 3000);
      expect(reply).not.toBeNull();
      expect(edge.running).toBe(true);
    });
  });
});
