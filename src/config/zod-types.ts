/** The value types a config file uses, for every section's schema: durations, sizes, addresses, rates. */
import { isIP } from 'node:net';
import { ipaddr } from '../cjs.js';
import { z } from 'zod';
import { parseDuration, parseSize } from './units.js';

export const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
  if (ms === null || !Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like 500ms, 5s, 1m, 1h, 1d; got "${v}"` });
    return z.NEVER;
  }
  return ms;
});
export const size = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const bytes = typeof v === 'number' ? v : parseSize(v);
  if (bytes === null || bytes <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected a size like 64MB; got "${v}"` });
    return z.NEVER;
  }
  return bytes;
});
export const ip = z.string().refine((s) => isIP(s) !== 0, { message: 'expected an IPv4 or IPv6 address' });
export const cidr = z.string().refine((s) => { try { ipaddr.parseCIDR(s); return true; } catch { return false; } },
  { message: 'expected a prefix like 10.0.0.0/24 or fd00::/64' });
export const port = z.number().int().min(1).max(65535);
export const domain = z.string().min(1).regex(/^[A-Za-z0-9_.-]+\.?$/, 'expected a domain name');
export const upstreamUrl = z.string().regex(/^(udp|tcp|tls|https):\/\/\S+$/, 'expected udp://, tcp://, tls:// or https:// URL');
export const bandwidth = z.string().regex(/^\d+(\.\d+)?\s*(bit|kbit|mbit|gbit)$/i, 'expected a rate like 20mbit');

