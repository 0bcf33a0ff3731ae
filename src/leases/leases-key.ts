/**
 * The handle the leases room reads its built `leases` section with (`sectionOf(config, LEASES)`). It
 * lives apart from the schema, so the serving process, which gets its config validated in a
 * worker (app/config-loader.ts), never loads zod.
 */
import type { SectionKey } from '../config/section.js';
import type { LeasesConfig } from './lease-manager.js';

export const LEASES: SectionKey<LeasesConfig | null> = { name: 'leases' };
