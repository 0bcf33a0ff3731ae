/** The leases room's part of the config file: `leases:` (CONFIG.md). */
import { z } from 'zod';
import type { ConfigSection } from '../config/section.js';
import { LEASES } from './leases-key.js';
import { duration } from '../config/zod-types.js';
import type { LeasesConfig } from './lease-manager.js';

export const leasesSchema = z.strictObject({
  kea4: z.string().min(1).optional(),
  kea6: z.string().min(1).optional(),
  ttl: duration.default(300_000),
  conflict: z.enum(['newest', 'first', 'static-wins-only']).default('newest'),
});

export { LEASES };

export const leasesSection: ConfigSection<LeasesConfig | null> = {
  name: LEASES.name,
  shape: { leases: leasesSchema.optional() },
  build(ctx) {
    const l = (ctx.raw as { leases?: z.output<typeof leasesSchema> }).leases;
    if (!l || (!l.kea4 && !l.kea6)) return null;
    return { kea4: l.kea4, kea6: l.kea6, ttl: Math.round(l.ttl / 1000), conflict: l.conflict };
  },
};
