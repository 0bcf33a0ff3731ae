/**
 * RFC 2136 §3: one UPDATE message checked and applied, all or nothing. Prerequisites are read
 * against the zone as it is served (static, leases, WireGuard and earlier updates); the update
 * section changes only the dynamic layer. The result is the rcode and, on success, the new
 * RRsets of every owner and type it changed — what the journal writes and the layer takes.
 */
import { CLASS_ANY, CLASS_IN, Rcode, RRType } from '../dns/constants.js';
import { CLASS_NONE, RRTYPE_DHCID, rdataToValue, UpdateRcode, type UpdateMessage, type UpdateRecord } from '../dns/update-message.js';
import { typeName, typeNumber } from '../dns/type-names.js';
import { canonicalValue } from '../zone/zone-history.js';
import type { ZoneRecord } from '../zone/records.js';
import type { TypeMap } from '../zone/zone-layers.js';
import type { AcceptRule } from './ddns-section.js';
import { permits } from './update-policy.js';

/** The types the zone can store from an update. */
export const UPDATABLE = new Set<number>([RRType.A, RRType.AAAA, RRType.CNAME, RRType.TXT, RRType.MX, RRType.SRV, RRType.PTR, RRTYPE_DHCID]);
const META = new Set<number>([RRType.ANY, RRType.AXFR, RRType.IXFR, 253, 254, RRType.OPT, RRType.TSIG]);
/** Most records one message may carry in its update section. */
export const MAX_UPDATES = 1000;

export const DDNS_ORIGIN = 'ddns';

/** One owner's new records of one type (empty: the RRset is gone). */
export interface RRsetChange {
  owner: string;
  type: string;
  records: Array<{ ttl: number; value: string }>;
}

export interface UpdateView {
  /** the zone as served: every source */
  served(owner: string): TypeMap | undefined;
  /** the dynamic layer alone */
  dynamic(owner: string): TypeMap | undefined;
}

export interface UpdateOutcome {
  rcode: number;
  changes: RRsetChange[];
  /** why, for the log and `show ddns` (rcode other than NOERROR) */
  reason?: string;
}

const fail = (rcode: number, reason: string): UpdateOutcome => ({ rcode, changes: [], reason });

function inZone(name: string, zone: string): boolean {
  return zone === '' || name === zone || name.endsWith(`.${zone}`);
}

function valueOf(rr: UpdateRecord): string | null {
  return rdataToValue(rr.type, rr.rdata);
}

/** RFC 2136 §3.2: the prerequisite section. */
function checkPrereqs(msg: UpdateMessage, view: UpdateView): UpdateOutcome | null {
  const valueSets = new Map<string, Set<string>>(); // "owner\0type" → values, for the value-dependent form
  for (const rr of msg.prereqs) {
    if (rr.ttl !== 0) return fail(Rcode.FORMERR, 'prerequisite with a TTL');
    if (!inZone(rr.name, msg.zone)) return fail(UpdateRcode.NOTZONE, `${rr.name} is outside ${msg.zone}`);
    const types = view.served(rr.name);
    if (rr.cls === CLASS_ANY || rr.cls === CLASS_NONE) {
      if (rr.rdata.length !== 0) return fail(Rcode.FORMERR, 'prerequisite with RDATA and class ANY/NONE');
      const any = rr.type === RRType.ANY;
      const has = any ? types !== undefined && types.size > 0 : (types?.get(typeName(rr.type))?.length ?? 0) > 0;
      if (rr.cls === CLASS_ANY && !has) return fail(any ? Rcode.NXDOMAIN : UpdateRcode.NXRRSET, `${rr.name} ${any ? 'is not in use' : `has no ${typeName(rr.type)}`}`);
      if (rr.cls === CLASS_NONE && has) return fail(any ? UpdateRcode.YXDOMAIN : UpdateRcode.YXRRSET, `${rr.name} ${any ? 'is in use' : `has ${typeName(rr.type)}`}`);
    } else if (rr.cls === msg.zoneClass) {
      if (META.has(rr.type)) return fail(Rcode.FORMERR, 'prerequisite of a meta type');
      const v = valueOf(rr);
      if (v === null) return fail(UpdateRcode.NXRRSET, `${rr.name} ${typeName(rr.type)}: a value we do not hold`);
      const k = `${rr.name}\0${typeName(rr.type)}`;
      let set = valueSets.get(k);
      if (!set) valueSets.set(k, (set = new Set()));
      set.add(canonicalValue(typeName(rr.type), v));
    } else return fail(Rcode.FORMERR, `prerequisite class ${rr.cls}`);
  }
  // Value-dependent: the RRset must be exactly the values given (RFC 2136 §3.2.3).
  for (const [k, want] of valueSets) {
    const [owner, type] = k.split('\0');
    const have = new Set((view.served(owner)?.get(type) ?? []).map((r) => canonicalValue(type, r.value)));
    if (have.size !== want.size || [...want].some((v) => !have.has(v))) return fail(UpdateRcode.NXRRSET, `${owner} ${type} does not hold exactly the values given`);
  }
  return null;
}

/** RFC 2136 §3.4.1: the update section, checked whole before anything changes. */
function prescan(msg: UpdateMessage, rule: AcceptRule): UpdateOutcome | null {
  if (msg.updates.length > MAX_UPDATES) return fail(Rcode.REFUSED, `more than ${MAX_UPDATES} updates in one message`);
  for (const rr of msg.updates) {
    if (!inZone(rr.name, msg.zone)) return fail(UpdateRcode.NOTZONE, `${rr.name} is outside ${msg.zone}`);
    if (rr.cls === msg.zoneClass) {
      if (META.has(rr.type)) return fail(Rcode.FORMERR, `cannot add type ${rr.type}`);
    } else if (rr.cls === CLASS_ANY) {
      if (rr.ttl !== 0 || rr.rdata.length !== 0 || (META.has(rr.type) && rr.type !== RRType.ANY)) return fail(Rcode.FORMERR, 'malformed delete');
    } else if (rr.cls === CLASS_NONE) {
      if (rr.ttl !== 0 || META.has(rr.type)) return fail(Rcode.FORMERR, 'malformed delete of one record');
    } else return fail(Rcode.FORMERR, `update class ${rr.cls}`);
    if (rr.type === RRType.SOA || rr.type === RRType.NS || rr.type === RRType.ANY) continue; // ignored below, or filtered by the rule
    if (!permits(rule, rr.name, rr.type)) return fail(Rcode.REFUSED, `not allowed to change ${rr.name} ${typeName(rr.type)}`);
    if (!UPDATABLE.has(rr.type)) return fail(Rcode.REFUSED, `type ${typeName(rr.type)} cannot be stored`);
    if (rr.cls !== CLASS_ANY && valueOf(rr) === null) return fail(Rcode.FORMERR, `bad RDATA for ${rr.name} ${typeName(rr.type)}`);
  }
  return null;
}

/** Check and apply; `view` is not changed (the caller applies `changes`). */
export function applyUpdate(msg: UpdateMessage, rule: AcceptRule, view: UpdateView): UpdateOutcome {
  if (msg.zoneClass !== CLASS_IN) return fail(UpdateRcode.NOTAUTH, `class ${msg.zoneClass}`);
  const pre = checkPrereqs(msg, view);
  if (pre !== null) return pre;
  const scan = prescan(msg, rule);
  if (scan !== null) return scan;
  // Work on copies of the touched owners' dynamic RRsets; nothing is visible until the caller applies.
  const work = new Map<string, Map<string, ZoneRecord[]>>();
  const owner = (name: string) => {
    let m = work.get(name);
    if (!m) {
      m = new Map([...(view.dynamic(name) ?? new Map<string, ZoneRecord[]>())].map(([t, l]) => [t, [...l]]));
      work.set(name, m);
    }
    return m;
  };
  const touched = new Set<string>();
  const mark = (name: string, type: string) => touched.add(`${name}\0${type}`);
  for (const rr of msg.updates) {
    if (rr.type === RRType.SOA || rr.type === RRType.NS) continue; // the apex's SOA and NS are ours
    const types = owner(rr.name);
    if (rr.cls === CLASS_ANY) {
      const doomed = rr.type === RRType.ANY ? [...types.keys()].filter((t) => permits(rule, rr.name, typeNumber(t) ?? 0)) : [typeName(rr.type)];
      for (const t of doomed) {
        if (types.delete(t)) mark(rr.name, t);
      }
      continue;
    }
    const t = typeName(rr.type);
    const value = valueOf(rr)!;
    const key = canonicalValue(t, value);
    if (rr.cls === CLASS_NONE) {
      const list = types.get(t);
      if (!list) continue;
      const kept = list.filter((r) => canonicalValue(t, r.value) !== key);
      if (kept.length === list.length) continue;
      if (kept.length === 0) types.delete(t);
      else types.set(t, kept);
      mark(rr.name, t);
      continue;
    }
    // An add. A CNAME and other data never share a name (RFC 2136 §3.4.2.2): the add is ignored.
    const served = view.served(rr.name);
    const others = (list: Iterable<string>) => [...list].some((x) => x !== 'CNAME' && x !== 'DHCID');
    if (t === 'CNAME' && (others(types.keys()) || (served !== undefined && others(served.keys())))) continue;
    if (t !== 'CNAME' && t !== 'DHCID' && (types.has('CNAME') || served?.has('CNAME'))) continue;
    const list = types.get(t) ?? [];
    const at = list.findIndex((r) => canonicalValue(t, r.value) === key);
    const rec: ZoneRecord = { name: rr.name, type: t as ZoneRecord['type'], ttl: rr.ttl, value, origin: DDNS_ORIGIN };
    if (t === 'CNAME') types.set(t, [rec]); // a second CNAME replaces the first
    else if (at >= 0) {
      if (list[at].ttl === rr.ttl) continue;
      list[at] = rec; // same value: the TTL is the new one
      types.set(t, list);
    } else types.set(t, [...list, rec]);
    mark(rr.name, t);
  }
  const changes: RRsetChange[] = [];
  for (const k of touched) {
    const [name, type] = k.split('\0');
    const list = work.get(name)?.get(type) ?? [];
    const before = view.dynamic(name)?.get(type) ?? [];
    if (same(before, list)) continue;
    changes.push({ owner: name, type, records: list.map((r) => ({ ttl: r.ttl, value: r.value })) });
  }
  return { rcode: Rcode.NOERROR, changes };
}



function same(a: ZoneRecord[], b: ZoneRecord[]): boolean {
  return a.length === b.length && a.every((r, i) => r.value === b[i].value && r.ttl === b[i].ttl);
}
