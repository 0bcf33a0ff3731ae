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
    expect(e.id).toBeGreaterThanOrEqual(0);
    expect(cache.lookup('k')).toBe(e.id);
    c.t += 59_000;
    expect(cache.lookup('k')).toBe(e.id);
    expect(cache.ageOf(e.id)).toBe(59);
    c.t += 1000;
    expect(cache.lookup('k')).toBe(-1);
    expect(cache.snapshot()).toMatchObject({ hits: 2, misses: 1 });
    expect(cache.staleEntry('k')).toBe(e.id); // kept for serve-stale
  });

  it('claims a prefetch for a popular entry in the last tenth of its TTL, once at a time', () => {
    const c = clock();
    const cache = new PacketCache(opts, c);
    const { id } = cache.store('k', answer('a.example', 100));
    cache.lookup('k');
    cache.lookup('k');
    expect(cache.claimPrefetch(id)).toBe(false); // 100 s left of 100
    c.t += 91_000;
    cache.lookup('k'); // the decision is made at the lookup's instant, as on the query path
    expect(cache.claimPrefetch(id)).toBe(true);
    expect(cache.claimPrefetch(id)).toBe(false); // one refresh at a time
    cache.prefetchDone('k');
    expect(cache.claimPrefetch(id)).toBe(true);
    expect(cache.snapshot().prefetches).toBe(2);
    const off = new PacketCache({ ...opts, prefetch: false }, c);
    const other = off.store('k', answer('a.example', 100)).id;
    off.lookup('k');
    off.lookup('k');
    c.t += 91_000;
    off.lookup('k');
    expect(off.claimPrefetch(other)).toBe(false);
  });

  it('clamps TTLs into [min-ttl, max-ttl] and writes them into the stored answer', () => {
    const c = clock();
    const cache = new PacketCache({ ...opts, minTtl: 30, maxTtl: 100 }, c);
    const low = cache.store('low', answer('a.example', 5));
    const high = cache.store('high', answer('b.example', 5000));
    expect(low.ttl).toBe(30);
    expect(high.ttl).toBe(100);
    // in the answer rendered now and in the slab's copy that hits are rendered from
    for (const a of [high.answer, cache.view(high.id)]) {
      const at = a.bytes.readUInt16BE(a.start + a.bodyLen);
      expect(a.bytes.readUInt32BE(a.start + at)).toBe(100);
    }
  });

  it('caches NXDOMAIN for min(SOA TTL, MINIMUM) capped by negative-ttl', () => {
    const cache = new PacketCache({ ...opts, negativeTtl: 1800 }, clock());
    const e = cache.store('nx', answer('no.example', -1, 3));
    expect(e.negative).toBe(true);
    expect(e.ttl).toBe(1800);
    expect(cache.peek('nx')).toBe(e.id);
    expect(e.id).toBeGreaterThanOrEqual(0);
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
    expect(cache.lookup('k')).toBe(-1);
    expect(cache.staleEntry('k')).toBeGreaterThanOrEqual(0);
    c.t += STALE_MAX_AGE_MS;
    expect(cache.staleEntry('k')).toBe(-1);
    const off = new PacketCache({ ...opts, serveStale: false }, c);
    off.store('k', answer('a.example', 10));
    c.t += 20_000;
    expect(off.staleEntry('k')).toBe(-1);
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
    expect(cache.peek('k499')).toBeGreaterThanOrEqual(0);
    expect(cache.peek('k0')).toBe(-1);
    expect(cache.slabBytes).toBeLessThanOrEqual(20_000 + 64 * 1024); // its chunks: the budget, give or take one chunk
  });

  it('keeps answers in its slab byte for byte, reuses evicted slots, and evicts the least recently used, not the oldest', () => {
    const c = clock();
    const cache = new PacketCache({ ...opts, maxBytes: 64 * 1024 }, c);
    const stored = new Map<string, Buffer>();
    for (let i = 0; i < 2000; i++) {
      const s = cache.store(`k${i}`, answer(`n${i}.example`, 300));
      stored.set(`k${i}`, Buffer.from(s.answer.bytes.subarray(s.answer.start, s.answer.end)));
      if (i % 10 === 0) cache.lookup('k0'); // k0 stays in use
    }
    const snap = cache.snapshot();
    expect(snap.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(snap.entries).toBeGreaterThan(100);
    expect(cache.slabBytes).toBeLessThanOrEqual(2 * 64 * 1024); // slots were reused, not added
    expect(cache.peek('k0')).toBeGreaterThanOrEqual(0); // recently used: kept
    expect(cache.peek('k1')).toBe(-1); // least recently used: gone
    for (const key of ['k0', 'k1999', 'k1990']) {
      const id = cache.lookup(key);
      const v = cache.view(id);
      expect(Buffer.from(v.bytes.subarray(v.start, v.end)).equals(stored.get(key)!)).toBe(true);
    }
  });

  it('takes an answer of a size it has no slot for yet without evicting the rest, once its slab is all in chunks', () => {
    const cache = new PacketCache({ ...opts, maxBytes: 64 * 1024 }, clock());
    for (let i = 0; i < 1000; i++) cache.store(`k${i}`, answer(`n${i}.example`, 300)); // full, one size
    const before = cache.snapshot().entries;
    const big = scanResponse(dnsPacket.encode({
      type: 'response', id: 1, questions: [{ name: 'txt.example', type: 'TXT' }],
      answers: [{ name: 'txt.example', type: 'TXT', ttl: 60, data: 'x'.repeat(900) }],
    }))!;
    expect(cache.store('big', big).id).toBeGreaterThanOrEqual(0);
    expect(cache.peek('big')).toBeGreaterThanOrEqual(0);
    expect(cache.snapshot().entries).toBeGreaterThan(before - 20); // a few went for its bytes, not the whole cache
    expect(cache.peek('k999')).toBeGreaterThanOrEqual(0);
    expect(cache.snapshot().bytes).toBeLessThanOrEqual(64 * 1024);
  });

  it('finds every entry after many evictions and re-stores (the open-addressed index shifts rows back on removal)', () => {
    const cache = new PacketCache({ ...opts, maxBytes: 256 * 1024 }, clock());
    const live = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const key = `q${(i * 7919) % 5000}`;
      cache.store(key, answer(`${key}.example`, 300));
      live.add(key);
    }
    let found = 0;
    for (const key of live) {
      const id = cache.peek(key);
      if (id < 0) continue;
      found++;
      const v = cache.view(id);
      expect(v.bytes.toString('latin1', v.start + 12, v.end)).toContain(key); // the entry is this key's answer
    }
    expect(found).toBe(cache.snapshot().entries);
    expect(cache.flush()).toBe(found);
    expect(cache.peek('q1')).toBe(-1);
  });

  it('keeps to the rows its index can name: past the cap the least recent entry makes room, and every key still finds its own answer', () => {
    const cache = new PacketCache(opts, clock(), 100);
    for (let i = 0; i < 300; i++) cache.store(`k${i}`, answer(`k${i}.example`, 300));
    expect(cache.snapshot().entries).toBe(100);
    for (let i = 0; i < 200; i++) expect(cache.peek(`k${i}`)).toBe(-1);
    for (let i = 200; i < 300; i++) {
      const v = cache.view(cache.peek(`k${i}`));
      expect(v.bytes.toString('latin1', v.start + 12, v.end)).toContain(`k${i}`);
    }
  });

  it('stores a name again in place of its old entry, and answers bigger than any slot are served but not kept', () => {
    const cache = new PacketCache(opts, clock());
    cache.store('k', answer('a.example', 60));
    const again = cache.store('k', answer('a.example', 120));
    expect(cache.snapshot().entries).toBe(1);
    expect(cache.lookup('k')).toBe(again.id);
    expect(cache.ageOf(again.id)).toBe(0);
    const huge = scanResponse(dnsPacket.encode({
      type: 'response', id: 1, questions: [{ name: 'big.example', type: 'TXT' }],
      answers: Array.from({ length: 600 }, () => ({ name: 'big.example', type: 'TXT' as const, ttl: 60, data: 'x'.repeat(250) })),
    }))!;
    const big = cache.store('big', huge);
    expect(big.id).toBe(-1);
    expect(big.answer.end - big.answer.start).toBeGreaterThan(131_072);
    expect(cache.peek('big')).toBe(-1);
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
