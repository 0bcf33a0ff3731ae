/** The HA room's part of the config file: `ha:` (CONFIG.md, "Keys being added"). */
import { z } from 'zod';
import type { ConfigSection, SectionKey } from '../config/section.js';

export const haSchema = z.strictObject({
  'state-file': z.string().min(1).default('/run/edgedns/ha.state'),
});

export interface HaSettings {
  stateFile: string;
}

export const HA: SectionKey<HaSettings | null> = { name: 'ha' };

export const haSection: ConfigSection<HaSettings | null> = {
  name: HA.name,
  shape: { ha: haSchema.optional() },
  build(ctx) {
    const h = (ctx.raw as { ha?: z.output<typeof haSchema> }).ha;
    return h === undefined ? null : { stateFile: h['state-file'] };
  },
};
