/**
 * The DDNS hub: UPDATEs in (TSIG, policy, RFC 2136 rules, journal, the dynamic layer of the
 * zone), zone transfers out (AXFR/IXFR to allowed secondaries, NOTIFY on serial changes) and,
 * through `PushClients`, the lease names out to external primaries.
 */
import { Buffer } from 'node:buffer';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { RCODE_NAMES, Rcode, RRType, TsigError } from '../dns/constants.js';
import type { ParsedQuery } from '../dns/query.js';
import { checkTsig, signResponse, type TsigCheck, type TsigKeyring } from '../dns/tsig.js';
import { dotted, parseUpdate, updateReply, UpdateRcode } from '../dns/update-message.js';
import { wireKeyToName } from '../dns/name.js';
import type { ClientInfo, Reply } from '../resolve/query-context.js';
import { PendingReply } from '../resolve/pending-reply.js';
import type { ZoneService } from '../resolve/zone-service.js';
import type { LocalZone } from '../zone/local-zone.js';
import type { ZoneRecord } from '../zone/records.js';
import type { ZoneHistory } from '../zone/zone-history.js';
import type { ZoneLayers } from '../zone/zone-layers.js';
import type { ZoneWriter } from '../zone/zone-port.js';
import type { DdnsConfig } from './ddns-section.js';
import type { LeaseFeed } from '../leases/lease-feed.js';
import { Journal } from './journal.js';
import { LeasePush } from './lease-push.js';
import type { PushStatus } from './push-client.js';
import { Notifier } from './notifier.js';
import { applyUpdate, DDNS_ORIGIN, type RRsetChange } from './update-engine.js';
import { fromMatches, ruleFor } from './update-policy.js';
import { ixfrSerial, serialAtLeast, soaSerial, transferMessages, withSerial } from './zone-transfer.js';

export interface DdnsDeps {
  /** the lease names, for `ddns.push` (null: no leases room) */
  feed: LeaseFeed | null;
  /** source address for reaching a primary through the selected uplink */
  source: (address: string) => string | undefined;
  zone: () => LocalZone;
  layers: ZoneLayers;
  history: ZoneHistory;
  writer: ZoneWriter;
  keys: () => TsigKeyring;
  clock: Clock;
  log: Logger;
}

export interface DdnsStatus {
  updates: { total: number; byKey: Record<string, Record<string, number>>; lastError: { at: string; key: string; from: string; rcode: string; reason: string } | null };
  zone: { serial: number; names: number; journal: string; journalSkipped: number; writeFailures: number };
  transfers: { axfr: number; ixfr: number; refused: number };
  notify: { sent: number; answered: number; failed: number };
  push: PushStatus[];
}

export class DdnsService implements ZoneService {
  /** the dynamic layer: owner → type → records (what the journal replays into) */
  private readonly store = new Map<string, Map<string, ZoneRecord[]>>();
  private readonly journal: Journal;
  private readonly notifier: Notifier;
  private readonly push: LeasePush;
  private readonly byKey = new Map<string, Map<number, number>>();
  private total = 0;
  private writeFailures = 0;
  private journalSkipped = 0;
  private lastError: DdnsStatus['updates']['lastError'] = null;
  readonly transfers = { axfr: 0, ixfr: 0, refused: 0 };
  private unsubscribe: () => void = () => undefined;

  constructor(private cfg: DdnsConfig, private readonly deps: DdnsDeps) {
    this.journal = new Journal(cfg.journal);
    this.notifier = new Notifier(cfg.transfer.notify, deps.log);
    this.push = new LeasePush(cfg.push, cfg.journal, {
      feed: deps.feed, domain: () => deps.zone().apexes[0].name, keys: deps.keys, source: deps.source, clock: deps.clock, log: deps.log,
    });
  }

  /** Replay the journal into the zone, then take changes. */
  /** HA: only the master pushes lease names to the primaries. */
  setPushing(on: boolean): void {
    this.push.setActive(on);
  }

  start(): void {
    const loaded = this.journal.load();
    this.journalSkipped = loaded.skipped;
    if (loaded.skipped > 0) this.deps.log.warn({ journal: this.cfg.journal, skipped: loaded.skipped }, 'journal lines that did not read (a write cut short) were skipped');
    for (const batch of loaded.batches) this.commit(batch);
    this.deps.history.flush();
    // The serial never goes back: not below what was acknowledged before the restart.
    if (loaded.serial >= this.deps.layers.serial) this.deps.layers.serial = (loaded.serial + 1) >>> 0;
    this.deps.history.reset();
    this.journal.snapshotSource = () => this.everything();
    this.unsubscribe = this.deps.history.onChange((apexes) => this.notifier.changed(apexes));
    this.deps.log.info({ journal: this.cfg.journal, names: this.store.size, serial: this.deps.layers.serial }, 'dynamic zone loaded');
    this.push.start();
  }

  reconfigure(cfg: DdnsConfig): void {
    this.cfg = cfg;
    this.notifier.setTargets(cfg.transfer.notify);
    this.push.setTargets(cfg.push);
  }

  /** HA: the dynamic layer as a whole and the serial of its last change, for the other gateway to follow. */
  dynamic(): { serial: number; rrsets: RRsetChange[] } {
    return { serial: this.journal.lastSerial, rrsets: this.everything() };
  }

  /**
   * HA: become the other gateway's dynamic layer. The difference is committed and journaled as
   * one message would be (so it survives a restart); the number of RRsets that changed.
   */
  async replicate(rrsets: RRsetChange[]): Promise<number> {
    const key = (c: { owner: string; type: string }) => `${c.owner}\u0000${c.type}`;
    const want = new Map(rrsets.map((r) => [key(r), r]));
    const changes: RRsetChange[] = [];
    for (const cur of this.everything()) {
      const w = want.get(key(cur));
      want.delete(key(cur));
      if (w === undefined) changes.push({ owner: cur.owner, type: cur.type, records: [] });
      else if (JSON.stringify(w.records) !== JSON.stringify(cur.records)) changes.push(w);
    }
    changes.push(...want.values());
    if (changes.length === 0) return 0;
    const before = changes.map((c) => ({ owner: c.owner, type: c.type, records: (this.store.get(c.owner)?.get(c.type) ?? []).map((r) => ({ ttl: r.ttl, value: r.value })) }));
    this.commit(changes);
    this.deps.history.flush();
    try {
      await this.journal.append(changes, this.deps.layers.serial);
    } catch (e) {
      this.writeFailures++;
      this.commit(before); // not on disk: not taken (the next poll tries again)
      throw e;
    }
    return changes.length;
  }

  private everything(): RRsetChange[] {
    const out: RRsetChange[] = [];
    for (const [owner, types] of this.store) for (const [type, list] of types) out.push({ owner, type, records: list.map((r) => ({ ttl: r.ttl, value: r.value })) });
    return out;
  }

  /** Into the store and the zone layer, synchronously: a query sees all of a message or none. */
  private commit(changes: RRsetChange[]): void {
    for (const c of changes) {
      const records: ZoneRecord[] = c.records.map((r) => ({ name: c.owner, type: c.type as ZoneRecord['type'], ttl: r.ttl, value: r.value, origin: DDNS_ORIGIN }));
      let types = this.store.get(c.owner);
      if (records.length === 0) {
        types?.delete(c.type);
        if (types?.size === 0) this.store.delete(c.owner);
      } else {
        if (!types) this.store.set(c.owner, (types = new Map()));
        types.set(c.type, records);
      }
      this.deps.writer.set(DDNS_ORIGIN, c.owner, c.type, records);
    }
  }

  private count(key: string, rcode: number, from: string, reason?: string): void {
    this.total++;
    let m = this.byKey.get(key);
    if (!m) this.byKey.set(key, (m = new Map()));
    m.set(rcode, (m.get(rcode) ?? 0) + 1);
    if (rcode !== Rcode.NOERROR) {
      this.lastError = { at: new Date(this.deps.clock.now()).toISOString(), key, from, rcode: RCODE_NAMES[rcode] ?? UPDATE_RCODES[rcode] ?? String(rcode), reason: reason ?? '' };
    }
  }

  update(message: Buffer, client: ClientInfo): Reply {
    try {
      return this.handleUpdate(message, client);
    } catch (err) {
      // A bug, not the client's fault: nothing was committed before the throw (commit is last).
      this.deps.log.error({ err }, 'UPDATE handling failed');
      return updateReply(message, Rcode.SERVFAIL);
    }
  }

  private seconds(): number {
    return Math.floor(this.deps.clock.now() / 1000);
  }

  private handleUpdate(message: Buffer, client: ClientInfo): Reply {
    const parsed = parseUpdate(message);
    if (!parsed.ok) {
      if (parsed.drop) return null;
      this.count('-', Rcode.FORMERR, client.address, 'malformed UPDATE');
      return updateReply(message, Rcode.FORMERR);
    }
    const msg = parsed.msg;
    const now = this.seconds();
    let tsig: TsigCheck | null = null;
    if (msg.tsigAt >= 0) {
      tsig = checkTsig(message, msg.tsigAt, this.deps.keys(), now);
      if (tsig.error !== 0) {
        const name = dotted([...tsig.keyName]) || '-';
        const reason = tsig.error === -1 ? 'malformed TSIG' : `TSIG ${TSIG_NAMES[tsig.error] ?? tsig.error}`;
        const rcode = tsig.error === -1 ? Rcode.FORMERR : Rcode.NOTAUTH;
        this.count(name, rcode, client.address, reason);
        const r = updateReply(message, rcode);
        return tsig.error === -1 ? r : signResponse(r, tsig, now);
      }
    }
    const keyName = tsig?.key?.name ?? null;
    const label = keyName ?? '-';
    const reply = (rcode: number, reason?: string) => {
      this.count(label, rcode, client.address, reason);
      if (rcode !== Rcode.NOERROR) this.deps.log.info({ key: label, from: client.address, zone: msg.zone, rcode: UPDATE_RCODES[rcode] ?? RCODE_NAMES[rcode], reason }, 'update not applied');
      const r = updateReply(message, rcode);
      return tsig === null ? r : signResponse(r, tsig, this.seconds());
    };
    const zone = this.deps.zone();
    if (msg.zoneType !== RRType.SOA) return reply(Rcode.FORMERR, 'zone section type is not SOA');
    if (zone.apexFor(msg.zone) !== msg.zone) return reply(UpdateRcode.NOTAUTH, `not authoritative for ${msg.zone}`);
    const rule = ruleFor(this.cfg.accept, keyName, client.address);
    if (rule === undefined) return reply(Rcode.REFUSED, keyName === null ? 'unsigned, and no rule allows this address' : `no rule for key ${keyName}`);
    const outcome = applyUpdate(msg, rule, {
      served: (o) => zone.lookup(o),
      dynamic: (o) => this.store.get(o),
    });
    if (outcome.rcode !== Rcode.NOERROR) return reply(outcome.rcode, outcome.reason);
    if (outcome.changes.length === 0) return reply(Rcode.NOERROR);
    const before = outcome.changes.map((c) => ({ owner: c.owner, type: c.type, records: (this.store.get(c.owner)?.get(c.type) ?? []).map((r) => ({ ttl: r.ttl, value: r.value })) }));
    this.commit(outcome.changes);
    this.deps.history.flush(); // the serial of this change, into its journal line
    return PendingReply.from(this.journal.append(outcome.changes, this.deps.layers.serial).then(
      () => reply(Rcode.NOERROR),
      (err: Error) => {
        // Not on disk, so not acknowledged: take it back out of the zone.
        this.writeFailures++;
        this.commit(before);
        this.deps.log.error({ err, journal: this.cfg.journal }, 'journal write failed; update undone');
        return reply(Rcode.SERVFAIL, `journal: ${err.message}`);
      },
    ));
  }

  transfer(query: Buffer, q: ParsedQuery, client: ClientInfo, tsig: TsigCheck | null): Buffer[] | undefined {
    const zone = this.deps.zone();
    const apex = wireKeyToName(q.name);
    const key = tsig?.key?.name ?? null;
    const allowed = this.cfg.transfer.allow.some((a) => (a.key === undefined || a.key === key) && fromMatches(a.from, client.address));
    if (zone.apexFor(apex) !== apex || !allowed) {
      this.transfers.refused++;
      if (!allowed) this.deps.log.info({ zone: apex, from: client.address, key }, 'zone transfer refused');
      return undefined; // the rules stage answers REFUSED
    }
    this.deps.history.flush();
    const records = zone.zoneOf(apex);
    const soa = records[0];
    const now = this.seconds();
    const current = soaSerial(soa);
    if (q.qtype === RRType.IXFR) {
      this.transfers.ixfr++;
      const theirs = ixfrSerial(query, q);
      if (theirs !== null && serialAtLeast(theirs, current)) return transferMessages(query, q, [soa], now);
      const diff = theirs === null ? null : this.deps.history.since(apex, theirs);
      if (diff !== null) return transferMessages(query, q, [soa, withSerial(soa, theirs!), ...diff.deleted, soa, ...diff.added, soa], now);
    } else this.transfers.axfr++;
    return transferMessages(query, q, [...records, soa], now);
  }

  status(): DdnsStatus {
    const byKey: Record<string, Record<string, number>> = {};
    for (const [k, m] of this.byKey) byKey[k] = Object.fromEntries([...m].map(([rc, n]) => [UPDATE_RCODES[rc] ?? RCODE_NAMES[rc] ?? String(rc), n]));
    return {
      updates: { total: this.total, byKey, lastError: this.lastError },
      zone: { serial: this.deps.layers.serial, names: this.store.size, journal: this.cfg.journal, journalSkipped: this.journalSkipped, writeFailures: this.writeFailures },
      transfers: { ...this.transfers },
      notify: { ...this.notifier.stats },
      push: this.push.status(),
    };
  }

  /** Per key and rcode, for metrics. */
  counts(): Array<{ key: string; rcode: string; n: number }> {
    return [...this.byKey].flatMap(([key, m]) => [...m].map(([rc, n]) => ({ key, rcode: UPDATE_RCODES[rc] ?? RCODE_NAMES[rc] ?? String(rc), n })));
  }

  /** Stop; with `clear`, the dynamic names leave the zone (ddns removed from the config). */
  stop(clear: boolean): void {
    this.unsubscribe();
    this.push.stop();
    this.notifier.close();
    this.journal.close();
    if (clear) this.deps.writer.clear(DDNS_ORIGIN);
  }
}

export const UPDATE_RCODES: Record<number, string> = { 6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE' };
const TSIG_NAMES: Record<number, string> = { [TsigError.BADSIG]: 'BADSIG', [TsigError.BADKEY]: 'BADKEY', [TsigError.BADTIME]: 'BADTIME' };

