/**
 * `ddns.push`: the lease names out to external primaries. On every change of the lease names
 * (coalesced per event-loop turn) each primary's wanted state is worked out afresh and handed to
 * its PushClient. What each primary acknowledged is kept in `<journal>.push`, replaced whole, so
 * after a restart (or a crash) the differences — names that came or went meanwhile, changes
 * that were queued when the primary was away — are worked out again and sent; nothing is lost
 * and nothing is sent twice for nothing.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../atomic-write.js';
import type { Clock } from '../clock.js';
import type { TsigKeyring } from '../dns/tsig.js';
import type { LeaseFeed } from '../leases/lease-feed.js';
import type { PushTarget } from './ddns-section.js';
import { PushClient, targetId, type PushStatus } from './push-client.js';
import { desiredFor, type PushedName } from './push-plan.js';

export interface LeasePushDeps {
  feed: LeaseFeed | null;
  domain: () => string;
  keys: () => TsigKeyring;
  /** source address for reaching `address` through the selected uplink */
  source: (address: string) => string | undefined;
  clock: Clock;
  log: Logger;
}

type Stored = { version: 1; targets: Record<string, Record<string, PushedName>> };

export class LeasePush {
  private clients: PushClient[] = [];
  private unsubscribe: () => void = () => undefined;
  private planned = false;
  private saveQueued = false;
  private readonly file: string;
  /** false on an HA backup: the master pushes; a backup holds its changes until it takes over */
  private active = true;

  constructor(targets: PushTarget[], journal: string, private readonly deps: LeasePushDeps) {
    this.file = `${journal}.push`;
    this.setTargets(targets);
  }

  private load(): Stored['targets'] {
    try {
      const s = JSON.parse(readFileSync(this.file, 'utf8')) as Stored;
      return s.version === 1 && typeof s.targets === 'object' ? s.targets : {};
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.deps.log.warn({ file: this.file, err: (e as Error).message }, 'push state did not read; every lease name will be pushed again');
      return {};
    }
  }

  /** A reload: clients of targets still configured keep their state; new ones start from the file. */
  setTargets(targets: PushTarget[]): void {
    const stored = this.clients.length === 0 ? this.load() : {};
    const old = new Map(this.clients.map((c) => [c.id, c]));
    this.clients = targets.map((t) => {
      const id = targetId(t);
      const keep = old.get(id);
      old.delete(id);
      if (keep && JSON.stringify(keep.target) === JSON.stringify(t)) return keep;
      keep?.stop();
      const held = new Map(Object.entries(keep?.held ?? stored[id] ?? {}));
      return new PushClient(t, held, {
        key: () => (t.key === undefined ? undefined : this.deps.keys().get(t.key)),
        source: () => this.deps.source(t.address),
        persist: () => this.save(),
        now: () => this.deps.clock.now(),
        log: this.deps.log,
      });
    });
    for (const c of old.values()) c.stop();
    this.plan();
  }

  start(): void {
    this.unsubscribe = this.deps.feed?.onChange(() => this.plan()) ?? (() => undefined);
    this.plan();
  }

  setActive(on: boolean): void {
    if (on === this.active) return;
    this.active = on;
    if (on) this.plan();
  }

  /** Work out every primary's wanted state, once per turn, and only when the lease files have been read. */
  private plan(): void {
    if (this.planned) return;
    this.planned = true;
    setImmediate(() => {
      this.planned = false;
      const feed = this.deps.feed;
      if (feed === null || !feed.ready() || !this.active) return;
      const claims = feed.claims();
      const domain = this.deps.domain();
      for (const c of this.clients) c.setWant(desiredFor(c.target, domain, claims));
    });
  }

  private save(): void {
    if (this.saveQueued) return;
    this.saveQueued = true;
    setImmediate(() => {
      this.saveQueued = false;
      const targets: Stored['targets'] = {};
      for (const c of this.clients) targets[c.id] = Object.fromEntries(c.held);
      try {
        writeFileAtomic(this.file, JSON.stringify({ version: 1, targets } satisfies Stored));
      } catch (e) {
        this.deps.log.error({ file: this.file, err: (e as Error).message }, 'push state not saved; names may be pushed again after a restart');
      }
    });
  }

  status(): PushStatus[] {
    return this.clients.map((c) => c.status());
  }

  stop(): void {
    this.unsubscribe();
    for (const c of this.clients) c.stop();
  }
}
