import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { scanResponse } from '../dns/scan.js';
import { PacketCache, STALE_MAX_AGE_MS, type CacheOptions } from './packet-cache.js';

const opts: CacheOptions = { maxBytes: 1 << 20, minTtl: 0, maxTtl: 86400, negativeTtl: 3600, serveStale: true, prefetch: true };

function answer(name: string, ttl: number, rcode = 0) {
  return scanResponse(dnsPacket.encode({
    type: 'response', id: 1, flags: rcode, questions: [{ name, type: 'A' }],
    answers: rcode === 0 && ttl >= 0 ? [{ name, type: 'A', ttl, data: '192.0.2.1' }] : [],
    authorities: rcode === 3 ? [{ name: 'example', type: 'SOA', ttl: 7200, data: { mname: 'a', rname: 'b', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 5000 } }] : [],
  }))!;
}

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('PacketCache', () => {
  it('expires an entry after its TTL, counting hits and misses and aging it as the clock moves', () => {
    const c = clock();
    const cache = new PacketCache(opts, c);
    const e = cache.store('k', answer('a.example', 60));
    expect(e.ttl).toBe(60);
    expect(cache.lookup('k')).toBe(e);
    c.t += 59_000;
    expect(cache.lookup('k')).toBe(e);
    expect(cache.ageOf(e)).toBe(59);
    c.t += 1000;
    expect(cache.lookup('k')).toBeUndefined();
    expect(cache.snapshot()).toMatchObject({ hits: 2, misses: 1 });
    expect(cache.staleEntry('k')).toBe(e); // kept for serve-stale
  });

  it('claims a prefetch for a popular entry in the last tenth of its TTL, once at a time', () => {
    const c = clock();
    const cache = new PacketCache(opts, c);
    const e = cache.store('k', answer('a.example', 100));
    cache.lookup('k');
    cache.lookup('k');
    expect(cache.claimPrefetch(e)).toBe(false); // 100 s left of 100
    c.t += 91_000;
    cache.lookup('k'); // the decision is made at the lookup's instant, as on the query path
    expect(cache.claimPrefetch(e)).toBe(true);
    expect(cache.claimPrefetch(e)).toBe(false); // one refresh at a time
    cache.prefetchDone(e);
    expect(cache.claimPrefetch(e)).toBe(true);
    expect(cache.snapshot().prefetches).toBe(2);
    expect(new PacketCache({ ...opts, prefetch: false }, c).claimPrefetch(e)).toBe(false);
  });

  it('clamps TTLs into [min-ttl, max-ttl] and writes them into the stored answer', () => {
    const c = clock();
    const cache = new PacketCache({ ...opts, minTtl: 30, maxTtl: 100 }, c);
    const low = cache.store('low', answer('a.example', 5));
    const high = cache.store('high', answer('b.example', 5000));
    expect(low.ttl).toBe(30);
    expect(high.ttl).toBe(100);
    const at = (high.data.charCodeAt(high.bodyLen) << 8) | high.data.charCodeAt(high.bodyLen + 1);
    expect(Buffer.from(high.data, 'latin1').readUInt32BE(at)).toBe(100);
  });

  it('caches NXDOMAIN for min(SOA TTL, MINIMUM) capped by negative-ttl', () => {
    const cache = new PacketCache({ ...opts, negativeTtl: 1800 }, clock());
    const e = cache.store('nx', answer('no.example', -1, 3));
    expect(e.negative).toBe(true);
    expect(e.ttl).toBe(1800);
    expect(cache.peekEntry('nx')).toBeDefined();
  });

  it('does not cache negative answers without an SOA, zero TTLs, or SERVFAIL', () => {
    const cache = new PacketCache(opts, clock());
    cache.store('nodata', answer('x.example', -1, 0));
    cache.store('zero', answer('y.example', 0));
    cache.store('sf', answer('z.example', -1, 2));
    expect(cache.snapshot().entries).toBe(0);
  });

  it('serves stale only within the stale window and only when enabled', () => {
    const c = clock();
    const cache = new PacketCache(opts, c);
    cache.store('k', answer('a.example', 10));
    c.t += 20_000;
    expect(cache.staleEntry('k')).toBeDefined();
    c.t += STALE_MAX_AGE_MS;
    expect(cache.staleEntry('k')).toBeUndefined();
    const off = new PacketCache({ ...opts, serveStale: false }, c);
    off.store('k', answer('a.example', 10));
    c.t += 20_000;
    expect(off.staleEntry('k')).toBeUndefined();
  });

  it('remembers SERVFAIL for a few seconds', () => {
    const c = clock();
    const cache = new PacketCache(opts, c);
    cache.rememberServfail('k');
    expect(cache.servfailActive('k')).toBe(true);
    c.t += 6000;
    expect(cache.servfailActive('k')).toBe(false);
  });

  it('stays within its byte bound, evicting the least recently used', () => {
    const cache = new PacketCache({ ...opts, maxBytes: 20_000 }, clock());
    for (let i = 0; i < 500; i++) cache.store(`k${i}`, answer(`n${i}.example`, 300));
    const s = cache.snapshot();
    expect(s.bytes).toBeLessThanOrEqual(20_000);
    expect(s.evictions).toBeGreaterThan(0);
    expect(cache.peekEntry('k499')).toBeDefined();
    expect(cache.peekEntry('k0')).toBeUndefined();
  });

  it('flushes one name (all types) or everything', () => {
    const cache = new PacketCache(opts, clock());
    const key = (name: string, t: number) => `${name}\x00${String.fromCharCode(t)}\x00\x01\x00`;
    const a = '\x01a\x07example\x00';
    const b = '\x01b\x07example\x00';
    cache.store(key(a, 1), answer('a.example', 60));
    cache.store(key(a, 28), answer('a.example', 60));
    cache.store(key(b, 1), answer('b.example', 60));
    expect(cache.flush(a)).toBe(2);
    expect(cache.snapshot().entries).toBe(1);
    expect(cache.flush()).toBe(1);
  });
});
