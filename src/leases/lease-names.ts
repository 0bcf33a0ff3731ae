/**
 * Lease rows → names in the zone, kept up to date incrementally: each batch of changed addresses
 * re-decides only the names they touch, and writes the result into the zone's layer for this
 * source in one synchronous pass.
 *
 * Rules: a live lease with a hostname claims `<label>.<zone.domain>` (A for kea4, AAAA for kea6)
 * and its address's PTR. A static record of the same name and type always wins (counted, logged
 * once). Two live leases claiming one name: `newest` (latest cltt = expire − valid_lifetime)
 * or `first` (the one that claimed it first) gets it; `static-wins-only` serves them all. A
 * lease that loses its name publishes no PTR: its address would point at a name that is not its.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { reverseName } from '../dns/reverse.js';
import type { ZoneRecord } from '../zone/records.js';
import type { ZonePort } from '../zone/zone-port.js';
import { ExpiryHeap } from './expiry-heap.js';
import { leaseLabel } from './hostname.js';
import { isLive, type LeaseFamily, type LeaseRow } from './kea-csv.js';
import type { LeaseClaim } from './lease-feed.js';

export type ConflictMode = 'newest' | 'first' | 'static-wins-only';

export interface LeaseNamesOptions {
  family: LeaseFamily;
  origin: string;
  /** seconds: the most a lease record's TTL is */
  ttl: number;
  conflict: ConflictMode;
}

export interface LeaseNameStats {
  live: number;
  added: number;
  removed: number;
  conflicts: number;
  staticConflicts: number;
}

export interface LeaseEntry {
  name: string;
  address: string;
  expires: string;
  source: string;
  state: 'active' | 'lost-conflict' | 'static-wins';
}

export class LeaseNames {
  readonly stats: LeaseNameStats = { live: 0, added: 0, removed: 0, conflicts: 0, staticConflicts: 0 };
  private readonly rows = new Map<string, LeaseRow>();
  /** address → the name it claims (live leases only) */
  private readonly nameOf = new Map<string, string>();
  /** name → addresses claiming it, in claim order */
  private readonly claims = new Map<string, Set<string>>();
  /** address → the name its published PTR points at */
  private readonly published = new Map<string, string>();
  private readonly winners = new Map<string, string[]>();
  private readonly staticLogged = new Set<string>();
  private readonly heap = new ExpiryHeap();

  constructor(
    private readonly opts: LeaseNamesOptions,
    private readonly zone: ZonePort,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  private get type(): 'A' | 'AAAA' {
    return this.opts.family === 4 ? 'A' : 'AAAA';
  }

  private fqdn(row: LeaseRow): string | null {
    const domain = this.zone.domain();
    const label = leaseLabel(row.hostname, domain);
    return label === null ? null : `${label}.${domain}`;
  }

  /** The current rows (last per address), e.g. to diff a full re-read against. */
  current(): ReadonlyMap<string, LeaseRow> {
    return this.rows;
  }

  /** Apply changed rows (null: the address's lease is gone). */
  apply(changes: Map<string, LeaseRow | null>): void {
    const now = this.clock.now() / 1000;
    const affected = new Set<string>();
    for (const [addr, row] of changes) {
      if (row === null) this.rows.delete(addr);
      else {
        this.rows.set(addr, row);
        if (isLive(row, now)) this.heap.push(row.expire, addr);
      }
      const newName = row !== null && isLive(row, now) ? this.fqdn(row) : null;
      const oldName = this.nameOf.get(addr) ?? null;
      if (oldName !== newName) {
        if (oldName !== null) {
          const set = this.claims.get(oldName)!;
          set.delete(addr);
          if (set.size === 0) this.claims.delete(oldName);
          affected.add(oldName);
          this.stats.removed++;
        }
        if (newName !== null) {
          let set = this.claims.get(newName);
          if (!set) this.claims.set(newName, (set = new Set()));
          set.add(addr);
          this.nameOf.set(addr, newName);
          affected.add(newName);
          this.stats.added++;
        } else {
          this.nameOf.delete(addr);
          this.unpublishPtr(addr);
        }
      } else if (newName !== null) {
        affected.add(newName); // renewed: the record's end (and so its TTL) moved
      }
    }
    for (const name of affected) this.publish(name);
    this.stats.live = this.nameOf.size;
  }

  /** Re-decide every name, e.g. after a reload changed the static records. */
  republishAll(): void {
    for (const name of [...this.claims.keys()]) this.publish(name);
  }

  private publish(name: string): void {
    const cands = [...(this.claims.get(name) ?? [])];
    let winners: string[];
    const zone = this.zone;
    if (zone.hasStatic(name, this.type) || zone.hasStatic(name, 'CNAME')) {
      winners = [];
      if (cands.length > 0 && !this.staticLogged.has(name)) {
        this.staticLogged.add(name);
        this.stats.staticConflicts++;
        this.log.warn({ name, leases: cands, source: this.opts.origin }, 'a static record has this name; the lease gets no name');
      }
    } else if (cands.length <= 1 || this.opts.conflict === 'static-wins-only') {
      winners = cands;
    } else {
      const cltt = (a: string) => { const r = this.rows.get(a)!; return r.expire - r.validLifetime; };
      const pick = this.opts.conflict === 'first' ? cands[0] : cands.reduce((best, a) => (cltt(a) >= cltt(best) ? a : best));
      winners = [pick];
      const before = this.winners.get(name);
      if (!before || before.length !== 1 || before[0] !== pick || cands.length !== (this.claims.get(name)?.size ?? 0)) this.stats.conflicts++;
    }
    if (winners.length > 0) this.winners.set(name, winners);
    else this.winners.delete(name);
    this.zone.set(this.opts.origin, name, this.type, winners.map((a) => this.record(name, this.type, a, this.rows.get(a)!)));
    for (const a of cands) {
      if (winners.includes(a)) this.publishPtr(a, name);
      else this.unpublishPtr(a);
    }
  }

  private record(name: string, type: ZoneRecord['type'], value: string, row: LeaseRow): ZoneRecord {
    return { name, type, ttl: this.opts.ttl, value, origin: this.opts.origin, expires: row.expire };
  }

  private publishPtr(addr: string, name: string): void {
    this.published.set(addr, name);
    const owner = reverseName(addr);
    this.zone.set(this.opts.origin, owner, 'PTR', [this.record(owner, 'PTR', name, this.rows.get(addr)!)]);
  }

  private unpublishPtr(addr: string): void {
    if (!this.published.has(addr)) return;
    this.published.delete(addr);
    this.zone.set(this.opts.origin, reverseName(addr), 'PTR', []);
  }

  /** Epoch seconds of the next lease end still current, or undefined. */
  nextExpiry(): number | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (!top) return undefined;
      const row = this.rows.get(top.key);
      if (row && row.expire === top.at && this.nameOf.has(top.key)) return top.at;
      this.heap.pop(); // renewed, released or already gone: a stale entry
    }
  }

  /** Drop the names of leases whose end has passed. */
  expireDue(): number {
    const now = this.clock.now() / 1000;
    const due = new Map<string, LeaseRow | null>();
    for (let top = this.heap.peek(); top && top.at <= now; top = this.heap.peek()) {
      this.heap.pop();
      const row = this.rows.get(top.key);
      if (row && row.expire === top.at) due.set(top.key, row);
    }
    if (due.size > 0) this.apply(due);
    return due.size;
  }

  /** The names this source serves now, with who holds each (for pushing them elsewhere). */
  served(): LeaseClaim[] {
    const out: LeaseClaim[] = [];
    for (const [name, addrs] of this.winners) {
      for (const a of addrs) {
        const row = this.rows.get(a);
        if (row) out.push({ name, type: this.type, address: a, ttl: this.opts.ttl, client: row.client });
      }
    }
    return out;
  }

  list(): LeaseEntry[] {
    const out: LeaseEntry[] = [];
    for (const [addr, name] of this.nameOf) {
      const row = this.rows.get(addr)!;
      const won = this.winners.get(name)?.includes(addr);
      const state = won ? 'active' : this.zone.hasStatic(name, this.type) ? 'static-wins' : 'lost-conflict';
      out.push({ name, address: addr, expires: new Date(row.expire * 1000).toISOString(), source: this.opts.origin, state });
    }
    return out;
  }

  /** Remove everything this source published. */
  clear(): void {
    this.zone.clear(this.opts.origin);
  }
}
