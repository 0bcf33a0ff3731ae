import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsFixture } from '../../test/helpers/dns-fixture.js';
import { makeQuery } from '../../test/helpers/packets.js';
import { systemClock } from '../clock.js';
import { parseUpstream } from '../config/validate.js';
import type { UpstreamConfig } from '../config/types.js';
import { makeTransport } from './make-transport.js';
import { AllUpstreamsFailed, UpstreamGroup } from './upstream-group.js';
import type { UplinkSource } from '../uplinks/uplink-source.js';

describe('UpstreamGroup with real UDP peers on loopback', () => {
  let fast: DnsFixture;
  let slow: DnsFixture;
  let silent: DnsFixture;
  const answers: Record<string, [string, number]> = { 'a.example': ['192.0.2.1', 60] };
  const cfg = (f: DnsFixture) => parseUpstream(f.url) as UpstreamConfig;

  beforeAll(async () => {
    [fast, slow, silent] = await Promise.all([
      DnsFixture.start({ answers }), DnsFixture.start({ answers, delayMs: 40 }), DnsFixture.start({ silent: true }),
    ]);
  });
  afterAll(async () => { await Promise.all([fast.close(), slow.close(), silent.close()]); });

  it('round-robin spreads queries over every upstream', async () => {
    const g = new UpstreamGroup([cfg(fast), cfg(slow)], 'round-robin', 500, (u) => makeTransport(u), systemClock);
    const f0 = fast.seen.length;
    const s0 = slow.seen.length;
    for (let i = 0; i < 6; i++) await g.resolve(makeQuery('a.example'));
    expect(fast.seen.length - f0).toBe(3);
    expect(slow.seen.length - s0).toBe(3);
    g.close();
  });

  it('fastest prefers the lower RTT but still explores', async () => {
    const g = new UpstreamGroup([cfg(slow), cfg(fast)], 'fastest', 500, (u) => makeTransport(u), systemClock);
    const f0 = fast.seen.length;
    const s0 = slow.seen.length;
    for (let i = 0; i < 60; i++) await g.resolve(makeQuery('a.example'));
    const toFast = fast.seen.length - f0;
    const toSlow = slow.seen.length - s0;
    expect(toFast).toBeGreaterThan(45);
    expect(toSlow).toBeGreaterThan(0);
    const stats = g.stats();
    expect(stats.find((s) => s.url === fast.url)!.rtt!).toBeLessThan(stats.find((s) => s.url === slow.url)!.rtt!);
    g.close();
  });

  it('ordered marks a silent upstream down after repeated timeouts and asks it last', async () => {
    const g = new UpstreamGroup([cfg(silent), cfg(fast)], 'ordered', 100, (u) => makeTransport(u), systemClock);
    for (let i = 0; i < 3; i++) await g.resolve(makeQuery('a.example'));
    expect(g.stats()[0]).toMatchObject({ state: 'down', errors: 3 });
    const before = silent.seen.length;
    await g.resolve(makeQuery('a.example'));
    expect(silent.seen.length).toBe(before); // the healthy one answered first
    g.close();
  });

  it('binds the selected uplink\'s source, and retries once on the new uplink when it changes mid-query', async () => {
    // A stand-in for the uplink monitor, because the test must switch the selection at an exact
    // moment; the real monitor drives real sockets in test/multiwan.test.ts.
    const deadPath = await DnsFixture.start({ answers, silentFrom: '127.0.0.1' });
    const listeners = new Set<() => void>();
    const uplinks: UplinkSource = {
      generation: 0,
      route: () => ({ uplink: uplinks.generation === 0 ? 'wan-a' : 'wan-b', address: uplinks.generation === 0 ? '127.0.0.1' : '127.0.0.2' }),
      onChange: (cb) => { listeners.add(cb); return () => listeners.delete(cb); },
    };
    const g = new UpstreamGroup([cfg(deadPath)], 'ordered', 300, makeTransport, systemClock, undefined, uplinks);
    expect(g.stats()[0].uplink).toBe('wan-a');
    const answer = g.resolve(makeQuery('a.example'));
    setTimeout(() => { (uplinks as { generation: number }).generation = 1; for (const cb of listeners) cb(); }, 100);
    await expect(answer).resolves.toMatchObject({ upstream: deadPath.url, uplink: 'wan-b' });
    expect(deadPath.seen.map((q) => q.from)).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(g.stats()[0]).toMatchObject({ errors: 0, state: 'up', uplink: 'wan-b' }); // the old path's timeout is forgiven
    g.close();
    await deadPath.close();
  });

  it('works out the source address once per uplink generation, and follows a new one at once', async () => {
    // The monitor bumps `generation` on every change of selection or source address; between
    // bumps the route is the same, so the group asks for it once, not on every query.
    let address = '127.0.0.1';
    let routeCalls = 0;
    const uplinks: UplinkSource = {
      generation: 0,
      route: () => { routeCalls++; return { uplink: 'wan-a', address }; },
      onChange: () => () => undefined,
    };
    const g = new UpstreamGroup([cfg(fast)], 'ordered', 500, makeTransport, systemClock, undefined, uplinks);
    const seen0 = fast.seen.length;
    for (let i = 0; i < 5; i++) await g.resolve(makeQuery('a.example'));
    expect(routeCalls).toBe(1); // the group's start and five queries: one generation, one route
    address = '127.0.0.2'; // a new WAN address: the monitor bumps the generation with it
    (uplinks as { generation: number }).generation = 1;
    await g.resolve(makeQuery('a.example'));
    expect(fast.seen.slice(seen0).map((q) => q.from)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.2']);
    expect(routeCalls).toBe(2);
    g.close();
  });

  it('rejects with AllUpstreamsFailed when none answers', async () => {
    const g = new UpstreamGroup([cfg(silent)], 'ordered', 100, (u) => makeTransport(u), systemClock);
    await expect(g.resolve(makeQuery('a.example'))).rejects.toBeInstanceOf(AllUpstreamsFailed);
    g.close();
  });
});
