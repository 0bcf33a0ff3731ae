/**
 * The handle the ha room reads its built `ha` section with (`sectionOf(config, HA)`). It
 * lives apart from the schema, so the serving process, which gets its config validated in a
 * worker (app/config-loader.ts), never loads zod.
 */
import type { SectionKey } from '../config/section.js';
import type { HaSettings } from './ha-section.js';

export const HA: SectionKey<HaSettings | null> = { name: 'ha' };
