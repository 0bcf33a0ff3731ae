/** The WireGuard room's part of the config file: `wireguard:` (CONFIG.md). */
import { z } from 'zod';
import type { ConfigSection } from '../config/section.js';
import { WIREGUARD } from './wireguard-key.js';
import { cidr, duration, ip, port } from '../config/zod-types.js';
import { checkWireguard } from './check-wireguard.js';
import { tunnelDnsListen, wgSettingsFrom, type WgSettings } from './wg-model.js';

export const wgPeerSchema = z.strictObject({
  name: z.string().min(1),
  'public-key': z.string().min(1),
  'preshared-key-file': z.string().optional(),
  address: z.union([cidr, z.array(cidr)]),
  mode: z.enum(['remote-access', 'site-to-site']).default('remote-access'),
  routes: z.array(cidr).default([]),
  endpoint: z.string().optional(),
  keepalive: duration.optional(),
});

export const wireguardSchema = z.strictObject({
  interface: z.string().default('wg0'),
  'listen-port': port.default(51820),
  address: z.array(cidr).min(1),
  'private-key-file': z.string().min(1),
  dns: ip.optional(),
  endpoint: z.string().optional(),
  endpoints: z.record(z.string(), z.string()).optional(),
  'state-file': z.string().min(1).default('/var/lib/edgedns/wireguard.json'),
  peers: z.array(wgPeerSchema).default([]),
  mtu: z.number().int().min(1280).max(9000).default(1420),
  'split-allowed-ips': z.array(cidr).optional(),
  'down-on-stop': z.boolean().default(false),
});

/** What this room reads of the file: its own key, and the uplinks' names (per-uplink endpoints). */
export interface RawWireguard {
  wireguard?: z.output<typeof wireguardSchema>;
  uplinks: Array<{ name: string }>;
}

export { WIREGUARD };

export const wireguardSection: ConfigSection<WgSettings | null> = {
  name: WIREGUARD.name,
  shape: { wireguard: wireguardSchema.optional() },
  check: (ctx) => ({ errors: checkWireguard(ctx.raw as unknown as RawWireguard, ctx.zoneDomain, ctx.zoneReverse) }),
  listen(ctx) {
    const l = tunnelDnsListen(ctx.raw as unknown as RawWireguard, ctx.listen);
    return l === null ? [] : [l];
  },
  build: (ctx) => wgSettingsFrom(ctx.raw as unknown as RawWireguard, ctx.zoneDomain, ctx.zoneReverse),
};
