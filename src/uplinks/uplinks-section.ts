/** This room's part of the config file: schema, checks, and the typed uplinks and multi-wan. */
import { z } from 'zod';
import type { ConfigSection } from '../config/section.js';
import { UPLINKS } from './uplinks-key.js';
import { checkUplinks } from './check-uplinks.js';
import { checkPolicies } from './policies/check-policies.js';
import { multiWanFromConfig, uplinksFromConfig, type MultiWan, type Uplink } from './uplink-model.js';
import { multiWanSchema, uplinkSchema, type RawUplinks } from './uplinks-schema.js';

export interface UplinksSettings {
  uplinks: Uplink[];
  multiWan: MultiWan;
}

export { UPLINKS };

/** `smartQueueing`: the schema of `uplinks[].smart-queueing` (the queueing room's). */
export function uplinksSection(smartQueueing: z.ZodType = z.unknown()): ConfigSection<UplinksSettings> {
  return {
    name: UPLINKS.name,
    shape: { uplinks: z.array(uplinkSchema(smartQueueing)).default([]), 'multi-wan': multiWanSchema.optional() },
    check(ctx) {
      const raw = ctx.raw as unknown as RawUplinks;
      const policies = checkPolicies(raw);
      return { errors: [...checkUplinks(raw), ...policies.errors], warnings: policies.warnings };
    },
    build(ctx) {
      const raw = ctx.raw as unknown as RawUplinks;
      return { uplinks: uplinksFromConfig(raw), multiWan: multiWanFromConfig(raw) };
    },
  };
}
