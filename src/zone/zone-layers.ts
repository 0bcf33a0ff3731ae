/**
 * Records that other modules change one owner at a time (leases), per origin. The layers outlive
 * config reloads (the zone built from the file is replaced; these are not). Changes are made
 * synchronously, so a batch applied in one call is seen whole by the next query.
 */
import type { ZoneRecord } from './records.js';

export type TypeMap = Map<string, ZoneRecord[]>;

export class ZoneLayers {
  readonly byOrigin = new Map<string, Map<string, TypeMap>>();

  /** Set (or, with an empty list, remove) the records of one owner and type in a layer. */
  set(origin: string, owner: string, type: string, records: ZoneRecord[]): void {
    let layer = this.byOrigin.get(origin);
    if (!layer) this.byOrigin.set(origin, (layer = new Map()));
    let types = layer.get(owner);
    if (records.length === 0) {
      if (!types) return;
      types.delete(type);
      if (types.size === 0) layer.delete(owner);
      return;
    }
    if (!types) layer.set(owner, (types = new Map()));
    types.set(type, records);
  }

  clear(origin: string): void {
    this.byOrigin.delete(origin);
  }

  get size(): number {
    return this.byOrigin.size;
  }
}
