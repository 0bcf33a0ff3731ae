/**
 * The rooms' sections of the config file, in one list: what `serve`, `check` and every command
 * load with. The smart-queueing schema goes into the uplinks section here, so neither room
 * imports the other.
 */
import { queueingSection, smartQueueingSchema } from '../aqm/queueing-section.js';
import { loadConfig, parseConfig, type LoadOptions } from '../config/load.js';
import type { ConfigSection } from '../config/section.js';
import type { Config } from '../config/types.js';
import { ddnsSection } from '../ddns/ddns-section.js';
import { haSection } from '../ha/ha-section.js';
import { leasesSection } from '../leases/leases-section.js';
import { uplinksSection } from '../uplinks/uplinks-section.js';
import { wireguardSection } from '../wireguard/wireguard-section.js';

export const SECTIONS: ReadonlyArray<ConfigSection<unknown>> = [
  uplinksSection(smartQueueingSchema),
  queueingSection,
  wireguardSection,
  leasesSection,
  ddnsSection,
  haSection,
];

/** The whole file, every room's section included. */
export function loadEdgeConfig(file?: string, hints?: Record<string, unknown>): Promise<Config> {
  return loadConfig(file, { sections: SECTIONS, hints } satisfies LoadOptions);
}

export function parseEdgeConfig(text: string, file: string, hints?: Record<string, unknown>): Config {
  return parseConfig(text, file, { sections: SECTIONS, hints });
}
