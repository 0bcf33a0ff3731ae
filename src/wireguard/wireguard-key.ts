/**
 * The handle the wireguard room reads its built `wireguard` section with (`sectionOf(config, WIREGUARD)`). It
 * lives apart from the schema, so the serving process, which gets its config validated in a
 * worker (app/config-loader.ts), never loads zod.
 */
import type { SectionKey } from '../config/section.js';
import type { WgSettings } from './wg-model.js';

export const WIREGUARD: SectionKey<WgSettings | null> = { name: 'wireguard' };
