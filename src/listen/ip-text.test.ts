import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ipv4Text, ipv6Text } from './ip-text.js';

/** What inet_ntop (node:dgram's rinfo.address) writes, via the URL parser's canonical form. */
function canonical6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

function bytes6(text: string): Uint8Array {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = new Uint8Array(16);
  groups.forEach((x, i) => { const v = parseInt(x, 16); b[2 * i] = v >> 8; b[2 * i + 1] = v & 0xff; });
  return b;
}

describe('addresses as node:dgram writes them', () => {
  it('IPv4 dotted quads, cached', () => {
    const b = new Uint8Array([0, 192, 168, 50, 101]);
    expect(ipv4Text(b, 1)).toBe('192.168.50.101');
    expect(ipv4Text(b, 1)).toBe('192.168.50.101');
    expect(ipv4Text(new Uint8Array([255, 0, 0, 1]), 0)).toBe('255.0.0.1');
  });

  it('IPv6 by RFC 5952 (the longest zero run, the first of equals, no single-group ::)', () => {
    for (const a of ['::1', '::', 'fd00:50::1', '2001:db8::1:0:0:1', '2001:db8:0:1:1:1:1:1', 'fe80::1:2', '2001:0:0:1::1', '1::', '1:0:0:2::3', 'fd44::2']) {
      const text = ipv6Text(bytes6(a), 0);
      expect(isIP(text), a).toBe(6);
      expect(text, a).toBe(canonical6(a));
    }
    expect(ipv6Text(bytes6('2001:db8:0:1:1:1:1:1'), 0)).toBe('2001:db8:0:1:1:1:1:1');
    expect(ipv6Text(bytes6('::ffff:c000:201'), 0)).toBe('::ffff:192.0.2.1');
  });
});
