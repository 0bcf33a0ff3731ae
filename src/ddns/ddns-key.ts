/**
 * The handle the ddns room reads its built `ddns` section with (`sectionOf(config, DDNS)`). It
 * lives apart from the schema, so the serving process, which gets its config validated in a
 * worker (app/config-loader.ts), never loads zod.
 */
import type { SectionKey } from '../config/section.js';
import type { DdnsConfig } from './ddns-section.js';

export const DDNS: SectionKey<DdnsConfig | null> = { name: 'ddns' };
