import { describe, expect, it } from 'vitest';
import { wireKey } from './name.js';
import { SuffixMatcher } from './suffix-matcher.js';

describe('SuffixMatcher', () => {
  const m = new SuffixMatcher<string>();
  for (let i = 64; i < 128; i++) m.add(wireKey(`${i}.100.in-addr.arpa`), `cgnat-${i}`);
  m.add(wireKey('10.in-addr.arpa'), 'ten');
  m.add(wireKey('home.arpa'), 'home');
  m.add(wireKey('sub.home.arpa'), 'sub-old');
  m.add(wireKey('sub.home.arpa'), 'sub'); // a later entry for the same suffix replaces the earlier

  it('finds the longest configured suffix, on label boundaries only', () => {
    expect(m.match(wireKey('z1.home.arpa'))).toBe('home');
    expect(m.match(wireKey('home.arpa'))).toBe('home');
    expect(m.match(wireKey('a.b.sub.home.arpa'))).toBe('sub');
    expect(m.match(wireKey('xsub.home.arpa'))).toBe('home'); // "xsub" is not under "sub"
    expect(m.match(wireKey('myhome.arpa'))).toBeUndefined(); // nor "myhome" under "home"
    expect(m.match(wireKey('4.3.100.100.in-addr.arpa'))).toBe('cgnat-100');
    expect(m.match(wireKey('4.3.2.10.in-addr.arpa'))).toBe('ten');
    expect(m.match(wireKey('1.1.100.in-addr.arpa'))).toBeUndefined(); // 1.100/16 is not CGNAT space
  });

  it('answers names under a TLD nobody configured, and the root, with nothing', () => {
    expect(m.match(wireKey('www.example.com'))).toBeUndefined();
    expect(m.match(wireKey('arpa'))).toBeUndefined();
    expect(m.match('\x00')).toBeUndefined();
  });
});
