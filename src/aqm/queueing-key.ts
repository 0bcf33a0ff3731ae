/**
 * The handle the aqm room reads its built `queueing` section with (`sectionOf(config, QUEUEING)`). It
 * lives apart from the schema, so the serving process, which gets its config validated in a
 * worker (app/config-loader.ts), never loads zod.
 */
import type { SectionKey } from '../config/section.js';
import type { QueueingSettings } from './queueing-model.js';

export const QUEUEING: SectionKey<QueueingSettings[]> = { name: 'queueing' };
