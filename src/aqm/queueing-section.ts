/** The queueing room's part of the config file: `uplinks[].smart-queueing` (CONFIG.md). */
import { z } from 'zod';
import type { ConfigSection } from '../config/section.js';
import { QUEUEING } from './queueing-key.js';
import { bandwidth, cidr, duration } from '../config/zod-types.js';
import { checkQueueing, type KernelQdiscs } from './check-queueing.js';
import { queueingFromConfig, type QueueingSettings } from './queueing-model.js';

export const smartQueueingSchema = z.strictObject({
  enabled: z.boolean().optional(),
  'bandwidth-up': bandwidth.optional(),
  'bandwidth-down': bandwidth.optional(),
  algorithm: z.enum(['auto', 'cake', 'fq-codel']).default('auto'),
  target: duration.default(5),
  interval: duration.default(100),
  ecn: z.boolean().default(true),
  overhead: z.number().int().min(0).max(256).optional(),
  ingress: z.boolean().default(true),
  autorate: z.strictObject({ min: bandwidth, base: bandwidth, max: bandwidth, threshold: duration.default(15) }).optional(),
  diffserv: z.enum(['besteffort', 'diffserv3', 'diffserv4']).default('besteffort'),
  classes: z.array(z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a short name: lower-case letters, digits, dashes'),
    domains: z.array(z.string().min(1)).optional(),
    sources: z.array(cidr).optional(),
    dscp: z.array(z.union([z.string(), z.number().int().min(0).max(63)])).optional(),
    rate: bandwidth,
    ceil: bandwidth.optional(),
  })).default([]),
});

/** What this room reads of the file: each uplink's name, interface and smart-queueing. */
export interface RawQueueing {
  uplinks: Array<{ name: string; interface: string; 'smart-queueing'?: z.output<typeof smartQueueingSchema> }>;
}

export { QUEUEING };

/** Owns no top-level key: its schema sits inside each uplink (handed to the uplinks section). */
export const queueingSection: ConfigSection<QueueingSettings[]> = {
  name: QUEUEING.name,
  shape: {},
  check: (ctx) => checkQueueing(ctx.raw as unknown as RawQueueing, ctx.hints.kernel as KernelQdiscs | undefined),
  build: (ctx) => queueingFromConfig(ctx.raw as unknown as RawQueueing),
};
