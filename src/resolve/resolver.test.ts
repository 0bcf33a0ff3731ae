import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DnsFixture } from '../../test/helpers/dns-fixture.js';
import { decode, makeQuery } from '../../test/helpers/packets.js';
import { parseEdgeConfig as parseConfig } from '../app/sections.js';
import type { ClientInfo } from './query-context.js';
import { Resolver } from './resolver.js';
import { PendingReply } from './pending-reply.js';

const client: ClientInfo = { address: '127.0.0.1', transport: 'udp', maxSize: 0, padBlock: 0 };

describe('Resolver (in process, driven clock, real loopback upstream)', () => {
  let upstream: DnsFixture;
  beforeAll(async () => { upstream = await DnsFixture.start({ answers: { 'pop.example': ['192.0.2.7', 100] } }); });
  afterAll(async () => { await upstream.close(); });

  it('answers a miss with a PendingReply (no Promise) and a cache hit synchronously, aging the TTL by the clock', async () => {
    const clock = { t: 1_000_000, now: () => clock.t };
    const r = new Resolver(parseConfig(`upstreams: [${upstream.url}]\ncache: { prefetch: false }\n`, 't'), clock, pino({ level: 'silent' }));
    const miss = r.handle(makeQuery('pop.example'), client);
    expect(miss).toBeInstanceOf(PendingReply);
    expect(miss).not.toBeInstanceOf(Promise);
    await miss;
    clock.t += 40_000;
    const hit = r.handle(makeQuery('pop.example'), client);
    expect(hit).toBeInstanceOf(Buffer);
    expect(decode(hit as Buffer).answers![0].ttl).toBe(60);
    expect(r.cache.snapshot()).toMatchObject({ hits: 1, misses: 1 });
    r.close();
  });

  it('prefetches a popular entry once its remaining TTL drops under 10%', async () => {
    const clock = { t: 2_000_000, now: () => clock.t };
    const r = new Resolver(parseConfig(`upstreams: [${upstream.url}]\n`, 't'), clock, pino({ level: 'silent' }));
    const seen = () => upstream.seen.filter((s) => s.name === 'pop.example').length;
    const before = seen();
    await r.handle(makeQuery('pop.example'), client);
    r.handle(makeQuery('pop.example'), client);
    r.handle(makeQuery('pop.example'), client);
    expect(seen() - before).toBe(1); // 90 s left of 100: no prefetch yet
    clock.t += 95_000;
    r.handle(makeQuery('pop.example'), client); // 5 s left: hit, and a refresh goes out
    await new Promise((res) => setTimeout(res, 200));
    expect(seen() - before).toBe(2);
    expect(r.cache.snapshot().prefetches).toBe(1);
    const fresh = r.handle(makeQuery('pop.example'), client);
    expect(decode(fresh as Buffer).answers![0].ttl).toBe(100);
    r.close();
  });
});
