/**
 * How other rooms publish into the zone (leases, WireGuard, later DDNS): records per origin and
 * owner, and — for rooms whose names may collide with the file's — the configured domain and
 * whether a static record already holds a name. They never see the zone's internals.
 */
import type { LocalZone } from './local-zone.js';
import type { ZoneRecord } from './records.js';
import type { LayerConflict, ZoneLayers } from './zone-layers.js';

export interface ZoneWriter {
  /** Set (or, with an empty list, remove) one owner's records of one type for `origin`. */
  set(origin: string, owner: string, type: string, records: ZoneRecord[]): void;
  /** Remove everything `origin` published. */
  clear(origin: string): void;
}

export interface ZonePort extends ZoneWriter {
  /** The configured zone's domain, as it is now (a reload may change it). */
  domain(): string;
  /** Does the configuration hold a record of this name and type? (Static always wins.) */
  hasStatic(owner: string, type: string): boolean;
  /** How two sources' records of one name and type are settled (the leases room owns the key). */
  setConflictRule(rule: LayerConflict): void;
}

/** The port over the layers that outlive reloads and the zone in force now. */
export function zonePort(layers: ZoneLayers, zone: () => LocalZone): ZonePort {
  return {
    set: (origin, owner, type, records) => layers.set(origin, owner, type, records),
    clear: (origin) => layers.clear(origin),
    domain: () => zone().apexes[0].name,
    hasStatic: (owner, type) => zone().hasStatic(owner, type),
    setConflictRule: (rule) => {
      layers.conflict = rule;
    },
  };
}
