/**
 * The handle the uplinks room reads its built `uplinks` section with (`sectionOf(config, UPLINKS)`). It
 * lives apart from the schema, so the serving process, which gets its config validated in a
 * worker (app/config-loader.ts), never loads zod.
 */
import type { SectionKey } from '../config/section.js';
import type { UplinksSettings } from './uplinks-section.js';

export const UPLINKS: SectionKey<UplinksSettings> = { name: 'uplinks' };
