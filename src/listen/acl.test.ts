import { describe, expect, it } from 'vitest';
import { Acl } from './acl.js';

describe('Acl', () => {
  it('by default allows loopback, RFC 1918, RFC 4193 and link-local, and refuses the rest', () => {
    const acl = new Acl([]);
    for (const a of ['127.0.0.1', '::1', '10.1.2.3', '172.20.0.1', '192.168.1.5', '169.254.3.3', 'fd00::5', 'fe80::1', '::ffff:192.168.1.9']) {
      expect(acl.check(a), a).toBe('allow');
    }
    for (const a of ['8.8.8.8', '172.32.0.1', '2001:db8::1', '::ffff:8.8.8.8']) expect(acl.check(a), a).toBe('refuse');
  });

  it('uses the first matching rule', () => {
    const acl = new Acl([
      { from: '127.0.0.2/32', action: 'refuse' },
      { from: '127.0.0.3/32', action: 'drop' },
      { from: '127.0.0.0/8', action: 'allow' },
    ]);
    expect(acl.check('127.0.0.2')).toBe('refuse');
    expect(acl.check('127.0.0.3')).toBe('drop');
    expect(acl.check('127.0.0.1')).toBe('allow');
    expect(acl.check('10.0.0.1')).toBe('refuse');
  });
});
