/**
 * edgedns as a process, real Unbound instances as upstreams, dig and kdig as clients:
 * forwarding, caching (positive, negative, stale), failover, per-domain forwarding, TC → TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig, kdig } from './helpers/dig.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { freePort } from './helpers/ports.js';
import { missing } from './helpers/system.js';
import { Unbound } from './helpers/unbound.js';

const skip = missing('unbound', 'dig', 'kdig');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SOA = 'lab.example. 3600 IN SOA ns.lab.example. hostmaster.lab.example. 1 3600 600 86400 60';
const bigTxt = Array.from({ length: 12 }, (_, i) => `big.lab.example. 300 IN TXT "${String(i).padStart(2, '0')}${'x'.repeat(198)}"`);

describe.skipIf(skip)('forwarding through real Unbound upstreams', () => {
  let u1: Unbound;
  let u2: Unbound;
  let corp: Unbound;
  let edge: EdgednsProcess;
  let port: number;
  const q = (...args: string[]) => dig(['@127.0.0.1', '-p', String(port), ...args]);

  beforeAll(async () => {
    [u1, u2, corp] = await Promise.all([
      Unbound.start({
        zones: ['lab.example.'],
        data: [SOA, 'www.lab.example. 300 IN A 192.0.2.10', 'short.lab.example. 2 IN A 192.0.2.11', 'who.lab.example. 300 IN TXT "u1"',
          'stale.lab.example. 1 IN A 192.0.2.12', ...bigTxt],
      }),
      Unbound.start({
        zones: ['lab.example.'],
        data: [SOA, 'www.lab.example. 300 IN A 192.0.2.10', 'who.lab.example. 300 IN TXT "u2"', 'only2.lab.example. 300 IN A 192.0.2.20'],
      }),
      Unbound.start({ zones: ['corp.example.'], data: ['intranet.corp.example. 300 IN A 10.9.9.9'] }),
    ]);
    port = await freePort();
    edge = await EdgednsProcess.start(`
listen:
  - { address: 127.0.0.1, port: ${port} }
zone:
  domain: home.arpa
  records:
    - { name: gw, type: A, value: 10.0.0.1 }
  reverse: [10.0.0.0/24]
cache:
  serve-stale: true
  prefetch: false
upstreams:
  - ${u1.url}
  - ${u2.url}
upstream-timeout: 400ms
forward:
  - { domain: corp.example, upstreams: [${corp.url}] }
`);
  });

  afterAll(async () => {
    await edge?.stop();
    await Promise.all([u1?.stop(), u2?.stop(), corp?.stop()]);
  });

  it('forwards a name only the upstream knows, over UDP and TCP, with dig and kdig', async () => {
    const r = await q('www.lab.example');
    expect(r.status).toBe('NOERROR');
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.10']);
    expect(r.flags).toContain('ra');
    expect(r.flags).not.toContain('aa');
    const t = await kdig(['@127.0.0.1', '-p', String(port), '+tcp', 'www.lab.example']);
    expect(t.status).toBe('NOERROR');
    expect(t.raw).toContain('192.0.2.10');
  });

  it('answers from cache with a decreasing TTL', async () => {
    const first = await q('who.lab.example', 'TXT');
    await sleep(1100);
    const second = await q('who.lab.example', 'TXT');
    expect(second.answer[0].data).toBe(first.answer[0].data);
    expect(second.answer[0].ttl).toBeLessThan(first.answer[0].ttl);
  });

  it('keeps the client\'s letter case in the question (0x20)', async () => {
    const r = await q('WwW.LaB.eXaMpLe');
    expect(r.question).toBe('WwW.LaB.eXaMpLe.');
    const again = await q('wWw.lAb.ExAmPlE'); // now a cache hit
    expect(again.question).toBe('wWw.lAb.ExAmPlE.');
    expect(again.answer[0].data).toBe('192.0.2.10');
  });

  it('caches NXDOMAIN per RFC 2308 with the SOA in authority', async () => {
    const first = await q('missing.lab.example');
    expect(first.status).toBe('NXDOMAIN');
    expect(first.authority[0].type).toBe('SOA');
    expect(first.authority[0].ttl).toBeLessThanOrEqual(60);
    await sleep(1100);
    const second = await q('missing.lab.example');
    expect(second.status).toBe('NXDOMAIN');
    expect(second.authority[0].ttl).toBeLessThan(first.authority[0].ttl);
  });

  it('sets TC when the answer does not fit UDP, and TCP gets it whole', async () => {
    const udp = await q('big.lab.example', 'TXT', '+ignore');
    expect(udp.flags).toContain('tc');
    expect(udp.answer).toHaveLength(0);
    const noEdns = await q('big.lab.example', 'TXT', '+ignore', '+noedns');
    expect(noEdns.flags).toContain('tc');
    const tcp = await q('big.lab.example', 'TXT', '+tcp');
    expect(tcp.flags).not.toContain('tc');
    expect(tcp.answer).toHaveLength(12);
  });

  it('sends a forward domain to its own upstreams', async () => {
    const r = await q('intranet.corp.example');
    expect(r.answer.map((a) => a.data)).toEqual(['10.9.9.9']);
    const viaDefault = await dig(['@127.0.0.1', '-p', String(u1.port), 'intranet.corp.example']);
    expect(viaDefault.answer).toHaveLength(0); // the default upstream does not know it
  });

  it('answers local and reverse names itself', async () => {
    const r = await q('gw.home.arpa');
    expect(r.flags).toContain('aa');
    expect(r.answer[0].data).toBe('10.0.0.1');
    const ptr = await q('-x', '10.0.0.1');
    expect(ptr.answer[0].data).toBe('gw.home.arpa.');
    expect((await q('-x', '10.0.0.77')).status).toBe('NXDOMAIN');
  });

  it('fails over to the second upstream, then serves stale when every upstream is down', async () => {
    const warm = await q('stale.lab.example');
    expect(warm.answer[0].data).toBe('192.0.2.12');
    await u1.stop();
    const r = await q('who2.lab.example', 'A'); // not cached: must come from u2
    expect(r.status).toBe('NXDOMAIN');
    const only2 = await q('only2.lab.example');
    expect(only2.answer[0].data).toBe('192.0.2.20');
    await u2.stop();
    await sleep(1200); // stale.lab.example (TTL 1) has expired
    const stale = await q('stale.lab.example', '+time=3');
    expect(stale.status).toBe('NOERROR');
    expect(stale.answer[0].data).toBe('192.0.2.12');
    expect(stale.answer[0].ttl).toBe(30);
    const never = await q('never-seen.lab.example', '+time=3');
    expect(never.status).toBe('SERVFAIL');
  });
});
