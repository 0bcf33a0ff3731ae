/** The `uplinks:` and `multi-wan:` keys of the config file (CONFIG.md), owned by this room. */
import { z } from 'zod';
import { cidr, duration, ip, port } from '../config/zod-types.js';

export const probeSchema = z.strictObject({
  type: z.enum(['dns', 'icmp', 'tcp', 'http']),
  target: z.string().min(1),
  interval: duration.default(1000),
  timeout: duration.default(500),
  name: z.string().optional(),
  port: port.optional(),
});

/** An uplink entry; `smart-queueing` is the queueing room's, handed in by the composition root. */
export function uplinkSchema(smartQueueing: z.ZodType) {
  return z.strictObject({
    name: z.string().min(1),
    interface: z.string().min(1),
    source: ip.optional(),
    gateway: ip.optional(),
    table: z.number().int().min(1).max(2 ** 31).optional(),
    priority: z.number().int().default(100),
    weight: z.number().int().min(1).default(1),
    probes: z.array(probeSchema).default([]),
    'min-targets-up': z.number().int().min(1).default(1),
    'down-after': z.number().int().min(1).default(3),
    'up-after': z.number().int().min(1).default(3),
    'hold-down': duration.default(10_000),
    'min-up': duration.optional(),
    'smart-queueing': smartQueueing.optional(),
  });
}

export const multiWanSchema = z.strictObject({
  mode: z.enum(['failover', 'load-balance']).default('failover'),
  'apply-routes': z.boolean().default(false),
  'default-table': z.number().int().min(1).max(2 ** 31).optional(),
  'rule-priority': z.number().int().min(1).max(31_000).optional(),
  nat: z.enum(['none', 'masquerade']).default('none'),
  'on-failover': z.enum(['flush', 'keep']).default('flush'),
  policies: z.array(z.strictObject({
    name: z.string().min(1),
    match: z.strictObject({
      domains: z.array(z.string()).optional(),
      source: z.array(cidr).optional(),
      destination: z.array(cidr).optional(),
    }),
    uplinks: z.array(z.string()).min(1),
    fallback: z.enum(['default', 'drop']).default('default'),
    grace: duration.default(300_000),
  })).default([]),
});

const typedUplink = uplinkSchema(z.unknown());
/** The two keys as validated, as this room reads them (smart-queueing left to its room). */
export interface RawUplinks {
  uplinks: Array<z.output<typeof typedUplink>>;
  'multi-wan'?: z.output<typeof multiWanSchema>;
}
