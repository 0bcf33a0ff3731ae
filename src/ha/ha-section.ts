/** The HA room's part of the config file: `ha:` (CONFIG.md, "Keys being added"). */
import { z } from 'zod';
import type { ConfigSection } from '../config/section.js';
import { HA } from './ha-key.js';
import { duration } from '../config/zod-types.js';

export const haSchema = z.strictObject({
  'state-file': z.string().min(1).default('/run/edgedns/ha.state'),
  // extension: the other gateway's admin API, whose dynamic zone a backup follows (ha-follower.ts)
  peer: z.string().url().refine((u) => /^https?:\/\//.test(u), 'expected http://ADDRESS:PORT of the other gateway\'s admin.http').optional(),
  'peer-interval': duration.default(1000),
});

export interface HaSettings {
  stateFile: string;
  peer?: string;
  peerIntervalMs: number;
}

export { HA };

export const haSection: ConfigSection<HaSettings | null> = {
  name: HA.name,
  shape: { ha: haSchema.optional() },
  build(ctx) {
    const h = (ctx.raw as { ha?: z.output<typeof haSchema> }).ha;
    return h === undefined ? null : { stateFile: h['state-file'], peer: h.peer, peerIntervalMs: h['peer-interval'] };
  },
};
