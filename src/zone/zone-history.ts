/**
 * The zone's versions: every batch of layer changes (a lease batch, an UPDATE, a WireGuard peer)
 * that changes what is served bumps the SOA serial once and is kept as a diff per apex, so an
 * IXFR (RFC 1995) can send what changed since a secondary's serial and a NOTIFY (RFC 1996) can
 * go out. Owners are captured before their first change and compared after the synchronous
 * batch ends (a microtask), so one batch is one version however many owners it touched.
 */
import { ipaddr } from '../cjs.js';
import { normalizeName } from '../dns/name.js';
import type { LocalZone } from './local-zone.js';
import type { ZoneRecord } from './records.js';
import type { ZoneLayers } from './zone-layers.js';

export interface ZoneChange {
  serial: number;
  apex: string;
  deleted: ZoneRecord[];
  added: ZoneRecord[];
}

/** Versions kept for IXFR; older serials get the whole zone. */
const KEEP = 5000;

/** A record's identity for diffs: owner, type and value in canonical form (TTL aside). */
export function recordKey(r: Pick<ZoneRecord, 'name' | 'type' | 'value'>): string {
  return `${r.name}\0${r.type}\0${canonicalValue(r.type, r.value)}`;
}

export function canonicalValue(type: string, value: string): string {
  switch (type) {
    case 'A': case 'AAAA':
      try {
        return ipaddr.parse(value).toString();
      } catch {
        return value;
      }
    case 'CNAME': case 'PTR': case 'NS':
      return normalizeName(value);
    case 'MX': case 'SRV': {
      const parts = value.trim().split(/\s+/);
      parts[parts.length - 1] = normalizeName(parts[parts.length - 1]);
      return parts.join(' ');
    }
    default:
      return value;
  }
}

function flatten(zone: LocalZone, owner: string): ZoneRecord[] {
  const types = zone.lookup(owner);
  if (types === undefined) return [];
  const out: ZoneRecord[] = [];
  for (const [t, list] of types) if (t !== 'SOA') out.push(...list);
  return out;
}

export class ZoneHistory {
  private readonly changes: ZoneChange[] = [];
  /** owner → what it served before the batch now running */
  private pending: Map<string, ZoneRecord[]> | null = null;
  private readonly listeners = new Set<(apexes: string[], serial: number) => void>();
  /** the oldest serial a diff can start from: every change after it is in `changes` */
  private base: number;

  constructor(private readonly layers: ZoneLayers, private readonly zone: () => LocalZone) {
    layers.watchTouches((owner) => this.touch(owner));
    this.base = layers.serial;
  }

  /** Called on every serial change with the apexes whose content changed; returns the unsubscribe. */
  onChange(cb: (apexes: string[], serial: number) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private touch(owner: string): void {
    if (this.pending === null) {
      this.pending = new Map();
      queueMicrotask(() => this.flush());
    }
    if (!this.pending.has(owner)) this.pending.set(owner, flatten(this.zone(), owner));
  }

  /** Close the batch now (also run by the microtask): the next query sees the new serial. */
  flush(): void {
    const pending = this.pending;
    if (pending === null) return;
    this.pending = null;
    const zone = this.zone();
    const byApex = new Map<string, { deleted: ZoneRecord[]; added: ZoneRecord[] }>();
    for (const [owner, before] of pending) {
      const apex = zone.apexFor(owner);
      if (apex === undefined) continue; // a lease PTR outside every configured zone: no SOA to bump
      const after = flatten(zone, owner);
      const was = new Set(before.map(recordKey));
      const now = new Set(after.map(recordKey));
      const deleted = before.filter((r) => !now.has(recordKey(r)));
      const added = after.filter((r) => !was.has(recordKey(r)));
      if (deleted.length === 0 && added.length === 0) continue;
      const d = byApex.get(apex) ?? { deleted: [], added: [] };
      d.deleted.push(...deleted);
      d.added.push(...added);
      byApex.set(apex, d);
    }
    if (byApex.size === 0) return;
    const serial = (this.layers.serial = (this.layers.serial + 1) >>> 0);
    for (const [apex, d] of byApex) this.changes.push({ serial, apex, ...d });
    if (this.changes.length > KEEP) this.base = this.changes.splice(0, this.changes.length - KEEP).at(-1)!.serial;
    for (const cb of this.listeners) cb([...byApex.keys()], serial);
  }

  /**
   * What changed under `apex` after `serial`, condensed into one diff (RFC 1995 §5 allows it);
   * null when the history does not reach back that far (the caller sends the whole zone).
   */
  since(apex: string, serial: number): { deleted: ZoneRecord[]; added: ZoneRecord[] } | null {
    if (serial < this.base || serial > this.layers.serial) return null;
    const deleted = new Map<string, ZoneRecord>();
    const added = new Map<string, ZoneRecord>();
    for (const c of this.changes) {
      if (c.apex !== apex || c.serial <= serial) continue;
      for (const r of c.deleted) {
        const k = recordKey(r);
        if (added.has(k)) added.delete(k);
        else deleted.set(k, r);
      }
      for (const r of c.added) {
        const k = recordKey(r);
        if (deleted.has(k)) deleted.delete(k);
        else added.set(k, r);
      }
    }
    return { deleted: [...deleted.values()], added: [...added.values()] };
  }

  /** Forget the versions (the zone from the file changed: diffs across it would be wrong). */
  reset(): void {
    this.changes.length = 0;
    this.base = this.layers.serial;
  }
}
