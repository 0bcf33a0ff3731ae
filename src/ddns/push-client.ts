/**
 * One external primary (`ddns.push[i]`): keeps what it should hold of ours (`want`) against
 * what it acknowledged (`held`, persisted), and works through the owners that differ one at a
 * time, with RFC 4703's checks so that a name someone else holds is never touched:
 *
 * - add: "name not in use" → add records + DHCID; if the name is in use, "the DHCID is ours"
 *   → replace our types; if it is not ours (NXRRSET), that is a conflict: counted, left alone.
 * - remove (or the name changed hands here): "the DHCID is ours" → delete our types and the DHCID.
 *
 * No answer, a refusal or a bad signature pauses the primary with backoff (1 s doubling to 60 s)
 * and the same owner is tried again. Nothing here waits in the lease's path: the lease is
 * already answered locally when it reaches us.
 */
import { Buffer } from 'node:buffer';
import type { Logger } from 'pino';
import { CLASS_ANY, CLASS_IN, Rcode, RRType } from '../dns/constants.js';
import type { TsigKey } from '../dns/tsig.js';
import { CLASS_NONE, RRTYPE_DHCID, UpdateRcode, valueToRdata, type UpdateRecord } from '../dns/update-message.js';
import type { PushTarget } from './ddns-section.js';
import { exchange, PushError } from './push-exchange.js';
import { managedTypes, samePushed, type PushedName } from './push-plan.js';

const TIMEOUT_MS = 2000;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 60_000;

export interface PushStatus {
  server: string;
  zone: string;
  pending: number;
  held: number;
  pushed: number;
  conflicts: number;
  /** owners the primary holds for another client now */
  conflicted: string[];
  failures: number;
  lastSuccess: string | null;
  lastError: { at: string; reason: string } | null;
  retryAt: string | null;
}

export interface PushDeps {
  key: () => TsigKey | undefined;
  /** the source address of the uplink the primary is reached through now */
  source: () => string | undefined;
  /** `held` changed: persist it */
  persist: () => void;
  now: () => number;
  log: Logger;
}

type Outcome = 'done' | 'conflict';

const TYPE: Record<string, number> = { A: RRType.A, AAAA: RRType.AAAA, PTR: RRType.PTR };

export class PushClient {
  private want = new Map<string, PushedName>();
  /** owners whose `want` and `held` differ, oldest first */
  private readonly pending = new Set<string>();
  /** owners the primary holds for someone else, with what we wanted then: not retried until that changes */
  private readonly conflicted = new Map<string, PushedName>();
  private running = false;
  private stopped = false;
  private backoff = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryAt = 0;
  readonly stats = { pushed: 0, conflicts: 0, failures: 0, lastSuccess: 0, lastError: null as { at: number; reason: string } | null };

  constructor(
    readonly target: PushTarget,
    /** owner → what the primary acknowledged holding of ours; kept by the caller across restarts */
    readonly held: Map<string, PushedName>,
    private readonly deps: PushDeps,
  ) {}

  get id(): string {
    return targetId(this.target);
  }

  /** What the primary should hold now; the differences are queued. */
  setWant(next: Map<string, PushedName>): void {
    for (const owner of new Set([...next.keys(), ...this.want.keys(), ...this.held.keys()])) {
      const w = next.get(owner);
      if (this.conflicted.has(owner) && !samePushed(w, this.conflicted.get(owner))) this.conflicted.delete(owner);
      if (samePushed(w, this.held.get(owner)) || (this.conflicted.has(owner) && !this.held.has(owner))) this.pending.delete(owner);
      else this.pending.add(owner);
    }
    this.want = next;
    this.kick();
  }

  private kick(): void {
    if (this.running || this.stopped || this.retryTimer !== null || this.pending.size === 0) return;
    this.running = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped) {
        const owner = this.pending.values().next().value as string | undefined;
        if (owner === undefined) return;
        await this.sync(owner);
        this.backoff = 0;
        this.stats.lastSuccess = this.deps.now();
        if (samePushed(this.want.get(owner), this.held.get(owner)) || (this.conflicted.has(owner) && !this.held.has(owner))) this.pending.delete(owner);
      }
    } catch (e) {
      this.stats.failures++;
      const reason = (e as Error).message;
      this.stats.lastError = { at: this.deps.now(), reason };
      this.backoff = Math.min(BACKOFF_MAX_MS, this.backoff === 0 ? BACKOFF_MIN_MS : this.backoff * 2);
      if (this.backoff === BACKOFF_MIN_MS) this.deps.log.warn({ primary: this.id, err: reason }, 'DDNS push failed; retrying with backoff');
      this.retryAt = this.deps.now() + this.backoff;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.kick();
      }, this.backoff);
      this.retryTimer.unref();
    } finally {
      this.running = false;
    }
  }

  /** Bring one owner on the primary to `want` (throws when the primary must be retried). */
  private async sync(owner: string): Promise<void> {
    const want = this.want.get(owner);
    const had = this.held.get(owner);
    if (had !== undefined && (want === undefined || had.dhcid !== want.dhcid || had.zone !== want.zone)) {
      await this.remove(owner, had);
      this.held.delete(owner);
      this.deps.persist();
    }
    if (want === undefined) return;
    const outcome = await this.add(owner, want);
    if (outcome === 'conflict') {
      this.stats.conflicts++;
      this.deps.log.warn({ primary: this.id, name: owner }, 'the primary holds this name for another client (DHCID); not touched');
      // Not ours: nothing held; tried again only when this lease's name or address changes.
      this.held.delete(owner);
      this.conflicted.set(owner, want);
      // Nor a PTR of ours pointing at it: the address would name someone else's name.
      for (const [o, n] of this.want) {
        if (n.records.some((r) => r.type === 'PTR' && r.value === owner)) {
          this.conflicted.set(o, n);
          this.want.delete(o);
        }
      }
    } else this.held.set(owner, want);
    this.deps.persist();
  }

  private async add(owner: string, n: PushedName): Promise<Outcome> {
    const adds: UpdateRecord[] = [
      ...n.records.map((r) => rr(owner, TYPE[r.type], CLASS_IN, n.ttl, valueToRdata(TYPE[r.type], r.value))),
      rr(owner, RRTYPE_DHCID, CLASS_IN, n.ttl, valueToRdata(RRTYPE_DHCID, n.dhcid)),
    ];
    const first = await this.send(n.zone, [rr(owner, RRType.ANY, CLASS_NONE, 0)], adds);
    if (first === Rcode.NOERROR) return 'done';
    if (first !== UpdateRcode.YXDOMAIN) throw rcodeError(first, owner);
    const deletes = managedTypes(n).map((t) => rr(owner, TYPE[t], CLASS_ANY, 0));
    const second = await this.send(n.zone, [this.ours(owner, n)], [...deletes, ...adds.slice(0, -1)]);
    if (second === Rcode.NOERROR) return 'done';
    if (second === UpdateRcode.NXRRSET) return 'conflict';
    throw rcodeError(second, owner);
  }

  private async remove(owner: string, n: PushedName): Promise<void> {
    const deletes = [...managedTypes(n).map((t) => rr(owner, TYPE[t], CLASS_ANY, 0)), rr(owner, RRTYPE_DHCID, CLASS_ANY, 0)];
    const rcode = await this.send(n.zone, [this.ours(owner, n)], deletes);
    // NXRRSET: the DHCID is no longer ours (or the name is gone): nothing of ours to delete.
    if (rcode !== Rcode.NOERROR && rcode !== UpdateRcode.NXRRSET) throw rcodeError(rcode, owner);
  }

  /** The prerequisite "this owner's DHCID is the one we wrote". */
  private ours(owner: string, n: PushedName): UpdateRecord {
    return rr(owner, RRTYPE_DHCID, CLASS_IN, 0, valueToRdata(RRTYPE_DHCID, n.dhcid));
  }

  private async send(zone: string, prereqs: UpdateRecord[], updates: UpdateRecord[]): Promise<number> {
    const rcode = await exchange({
      server: this.target, zone, prereqs, updates, key: this.deps.key(), source: this.deps.source(),
      timeoutMs: TIMEOUT_MS, nowSeconds: Math.floor(this.deps.now() / 1000),
    });
    if (rcode === Rcode.NOERROR) this.stats.pushed++;
    return rcode;
  }

  status(): PushStatus {
    const iso = (t: number) => new Date(t).toISOString();
    const e = this.stats.lastError;
    return {
      server: `${this.target.address}:${this.target.port}`, zone: this.target.zone, pending: this.pending.size, held: this.held.size,
      conflicted: [...this.conflicted.keys()],
      pushed: this.stats.pushed, conflicts: this.stats.conflicts, failures: this.stats.failures,
      lastSuccess: this.stats.lastSuccess ? iso(this.stats.lastSuccess) : null,
      lastError: e ? { at: iso(e.at), reason: e.reason } : null,
      retryAt: this.retryTimer !== null ? iso(this.retryAt) : null,
    };
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}

export function targetId(t: PushTarget): string {
  return `${t.address}:${t.port}/${t.zone}`;
}

function rr(name: string, type: number, cls: number, ttl: number, rdata: Buffer = Buffer.alloc(0)): UpdateRecord {
  return { name, type, cls, ttl, rdata };
}

const RCODE_TEXT: Record<number, string> = { 2: 'SERVFAIL', 4: 'NOTIMP', 5: 'REFUSED', 9: 'NOTAUTH', 10: 'NOTZONE', 6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET' };

function rcodeError(rcode: number, owner: string): PushError {
  return new PushError('PUSH_RCODE', `${RCODE_TEXT[rcode] ?? `rcode ${rcode}`} for ${owner}`);
}
