/**
 * The `leases:` section at work: one KeaSource + LeaseNames per configured file (kea4, kea6),
 * and one timer that fires when the next lease ends (not a poll), so an expired lease's name goes
 * at that moment even if Kea has written nothing yet.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ZonePort } from '../zone/zone-port.js';
import { sameRow, type LeaseRow } from './kea-csv.js';
import { KeaSource, type SourceChange, type SourceStats } from './kea-source.js';
import type { LeaseClaim } from './lease-feed.js';
import { LeaseNames, type ConflictMode, type LeaseEntry, type LeaseNameStats } from './lease-names.js';

export interface LeasesConfig {
  kea4?: string;
  kea6?: string;
  /** seconds */
  ttl: number;
  conflict: ConflictMode;
}

interface Unit {
  source: KeaSource;
  names: LeaseNames;
}

/** What changed between two full tables (null: gone). */
export function diffTables(before: ReadonlyMap<string, LeaseRow>, after: Map<string, LeaseRow>): Map<string, LeaseRow | null> {
  const changes = new Map<string, LeaseRow | null>();
  for (const [addr, row] of after) {
    const old = before.get(addr);
    if (!old || !sameRow(old, row)) changes.set(addr, row);
  }
  for (const addr of before.keys()) if (!after.has(addr)) changes.set(addr, null);
  return changes;
}

export class LeaseManager {
  private readonly units: Unit[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  /** ms epoch of the last change applied, for the update-latency benchmark and /leases */

  constructor(
    readonly cfg: LeasesConfig, zone: ZonePort, private readonly clock: Clock, private readonly log: Logger,
    /** told after every batch of name changes (e.g. the DDNS push) */
    private readonly changed: () => void = () => undefined,
  ) {
    for (const [origin, path, family] of [['kea4', cfg.kea4, 4], ['kea6', cfg.kea6, 6]] as const) {
      if (!path) continue;
      const names = new LeaseNames({ family, origin, ttl: cfg.ttl, conflict: cfg.conflict }, zone, clock, log);
      const unit: Unit = { names, source: new KeaSource(path, family, (c) => this.onChange(unit, c), log) };
      unit.source.onSettled = () => this.changed();
      this.units.push(unit);
    }
  }

  start(): void {
    for (const u of this.units) u.source.start();
  }

  private onChange(u: Unit, c: SourceChange): void {
    let changes: Map<string, LeaseRow | null>;
    if (c.kind === 'full') changes = diffTables(u.names.current(), c.table);
    else {
      changes = new Map();
      for (const row of c.rows) changes.set(row.address, row.validLifetime === 0 ? null : row);
    }
    if (changes.size === 0) return;
    u.names.apply(changes);
    this.arm();
    this.changed();
  }

  /** (Re)arm the timer for the earliest lease end. */
  private arm(): void {
    let next = Infinity;
    for (const u of this.units) next = Math.min(next, u.names.nextExpiry() ?? Infinity);
    if (next === Infinity || next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    const delay = Math.min(Math.max(0, next * 1000 - this.clock.now()) + 5, 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      let gone = 0;
      for (const u of this.units) gone += u.names.expireDue();
      this.arm();
      if (gone > 0) this.changed();
    }, delay);
    this.timer.unref();
  }

  republishAll(): void {
    for (const u of this.units) u.names.republishAll();
    this.changed();
  }

  /** Has every lease file been read once? Before that, an empty list of names means nothing. */
  ready(): boolean {
    return this.units.every((u) => u.source.settled);
  }

  claims(): LeaseClaim[] {
    return this.units.flatMap((u) => u.names.served());
  }

  list(): LeaseEntry[] {
    return this.units.flatMap((u) => u.names.list());
  }

  stats(): Array<{ source: SourceStats; names: LeaseNameStats }> {
    return this.units.map((u) => ({ source: { ...u.source.stats }, names: { ...u.names.stats } }));
  }

  close(clear: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    for (const u of this.units) {
      u.source.close();
      if (clear) u.names.clear();
    }
  }
}
