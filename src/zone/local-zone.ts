/**
 * The authoritative local data: the zone (`zone.domain`) and the reverse zones of `zone.reverse`,
 * with static records from config (an immutable snapshot, replaced whole on reload) and, through
 * `ZoneLayers`, records fed by other modules (leases) one owner at a time; each batch of layer
 * changes is made synchronously, so a query never sees half an update.
 */
import { Buffer } from 'node:buffer';
import { dnsPacket, ipaddr } from '../cjs.js';
import type { ZoneConfig } from '../config/types.js';
import { HEADER_SIZE, Rcode, RRType } from '../dns/constants.js';
import { wireKey, wireKeyToName } from '../dns/name.js';
import type { ParsedQuery } from '../dns/query.js';
import { parseReverseName, reverseApex, reverseName, reverseNameInPrefix } from '../dns/reverse.js';
import { typeName as typeNameOf } from '../dns/type-names.js';
import { packAnswer, type PackedAnswer } from '../dns/reply.js';
import { RRTYPE_DHCID } from '../dns/update-message.js';
import { toAnswer, ttlNow, type ZoneRecord } from './records.js';
import { systemClock } from '../clock.js';
import { RenderedAnswers, renderedAnswer } from './rendered-answers.js';
import { ZoneLayers, type TypeMap } from './zone-layers.js';

export interface Apex {
  name: string;
  /** lower-case wire form, for suffix matching */
  wire: string;
  kind: 'forward' | 'reverse';
  /** reverse apexes: the configured prefix the names must fall in */
  prefix?: string;
  soa: ZoneRecord;
}

interface Snapshot {
  owners: Map<string, Map<string, ZoneRecord[]>>;
  /** Every owner and every ancestor of one, below its apex: names that exist (maybe empty). */
  existing: Set<string>;
  serial: number;
}

/** SOA MINIMUM: how long resolvers may cache our NXDOMAIN. Short, so new lease names show fast. */
export const NEGATIVE_TTL = 30;
const MAX_CNAME_CHAIN = 8;
/** The types a zone record can have (config and layers): other question types find nothing. */
const ZONE_TYPES = new Set<number>([RRType.A, RRType.AAAA, RRType.CNAME, RRType.TXT, RRType.MX, RRType.SRV, RRType.PTR, RRType.NS, RRType.SOA, RRTYPE_DHCID]);

export class LocalZone {
  readonly apexes: Apex[];
  private readonly staticRecords: ZoneRecord[];
  private snap: Snapshot;
  private readonly layers: Map<string, Map<string, TypeMap>>;
  private readonly zoneLayers: ZoneLayers;
  /** the serial the SOA records in `snap` carry */
  private soaSerial = -1;
  private readonly renderedAnswers = new RenderedAnswers();
  private readonly unwatch: () => void;

  constructor(private readonly cfg: ZoneConfig, layers: ZoneLayers = new ZoneLayers()) {
    this.layers = layers.byOrigin;
    this.zoneLayers = layers;
    this.unwatch = layers.watchTouches((owner) => {
      // Its ancestors too: a name below one makes it exist (NXDOMAIN becomes NODATA).
      for (let o = owner, i = 0; i !== -1; i = o.indexOf('.'), o = o.slice(i + 1)) this.renderedAnswers.touch(o);
    });
    this.apexes = [this.makeApex(cfg.domain, 'forward')];
    for (const prefix of cfg.reverse) {
      const apexName = reverseApex(prefix);
      const existing = this.apexes.find((a) => a.name === apexName && a.kind === 'reverse');
      if (!existing) this.apexes.push(this.makeApex(apexName, 'reverse', prefix));
      else this.apexes.push({ ...existing, prefix });
    }
    this.staticRecords = cfg.records.map((r) => ({ ...r, origin: 'static' }));
    this.snap = this.build();
  }

  private makeApex(name: string, kind: 'forward' | 'reverse', prefix?: string): Apex {
    const mname = `gw.${this.cfg.domain}`;
    const soa: ZoneRecord = {
      name, type: 'SOA', ttl: this.cfg.ttl, origin: 'synthesized',
      value: `${mname} hostmaster.${this.cfg.domain} 1 3600 600 86400 ${NEGATIVE_TTL}`,
    };
    return { name, wire: wireKey(name), kind, prefix, soa };
  }

  /** Does the configuration hold a record of this name and type? (Static always wins.) */
  hasStatic(owner: string, type: string): boolean {
    return this.snap.owners.get(owner)?.has(type) ?? false;
  }

  /**
   * An owner's records: static first, then each layer's types that static does not have. Maps
   * are shared until a second source contributes; then a copy is made (never written into).
   */
  lookup(owner: string): TypeMap | undefined {
    if (this.soaSerial !== this.zoneLayers.serial) this.refreshSoa();
    const base = this.snap.owners.get(owner);
    let result = base;
    let copied = false;
    /** type → the layer its records in `result` came from (once a second source shows up) */
    let from: Map<string, string> | null = null;
    let firstOrigin = '';
    for (const [origin, layer] of this.layers) {
      const types = layer.get(owner);
      if (types === undefined) continue;
      if (result === undefined) {
        result = types;
        firstOrigin = origin;
        continue;
      }
      if (!copied) {
        result = new Map(result);
        copied = true;
        from = new Map();
        if (base === undefined) for (const t of result.keys()) from.set(t, firstOrigin);
      }
      for (const [t, list] of types) {
        if (base?.has(t)) continue;
        const have = result.get(t);
        if (have === undefined) {
          result.set(t, list);
          from!.set(t, origin);
          continue;
        }
        // Two sources of one name and type (a lease and an update, say): `leases.conflict` decides.
        const won = this.zoneLayers.settle(owner, t, from!.get(t)!, origin);
        if (won === 'both') result.set(t, [...have, ...list]);
        else if (won === 'b') {
          result.set(t, list);
          from!.set(t, origin);
        }
      }
    }
    return result;
  }

  /** A PTR answer for a reverse name outside every configured reverse zone (e.g. a lease's). */
  answerLayerPtr(q: ParsedQuery, query: Uint8Array): Buffer | null {
    if (this.layers.size === 0) return null;
    const name = wireKeyToName(q.name);
    let types: TypeMap | undefined;
    for (const layer of this.layers.values()) {
      types = layer.get(name);
      if (types) break;
    }
    if (types === undefined) return null;
    const answers = q.qtype === RRType.PTR || q.qtype === RRType.ANY ? types.get('PTR') ?? [] : [];
    return encodeBody(query, q, 0x0400 | 0x0080, answers, []);
  }

  /** The name the zone gives an address (its PTR), e.g. for the query log. */
  nameOf(address: string): string | undefined {
    let ptr: string;
    try {
      ptr = reverseName(address.replace(/^::ffff:(?=\d)/, ''));
    } catch {
      return undefined;
    }
    return this.lookup(ptr)?.get('PTR')?.[0]?.value;
  }

  /** Every record served with authority, for `GET /zone`. */
  records(): ZoneRecord[] {
    const layered = [...this.layers.values()].flatMap((layer) => [...layer.values()].flatMap((m) => [...m.values()].flat()));
    const statics = [...this.snap.owners.values()].flatMap((m) => [...m.values()].flat());
    return [...statics, ...layered.filter((r) => !this.hasStatic(r.name, r.type))];
  }

  /** The serial in force now (every apex shares it). */
  get serial(): number {
    return this.zoneLayers.serial;
  }

  /** The SOA records carry the layers' serial, which moves without a rebuild. */
  private refreshSoa(): void {
    const serial = this.zoneLayers.serial;
    for (const apex of this.apexes) {
      const types = this.snap.owners.get(apex.name);
      const old = types?.get('SOA')?.[0];
      if (types === undefined || old === undefined) continue;
      const [mname, rname, , ...rest] = old.value.split(' ');
      types.set('SOA', [{ ...old, value: [mname, rname, serial, ...rest].join(' ') }]);
    }
    this.soaSerial = serial;
  }

  private build(): Snapshot {
    // A new zone from the file is a change a secondary must see: the serial moves on.
    this.zoneLayers.serial = Math.max(this.zoneLayers.serial + 1, Math.floor(Date.now() / 1000));
    const owners = new Map<string, Map<string, ZoneRecord[]>>();
    const add = (r: ZoneRecord) => {
      let types = owners.get(r.name);
      if (!types) owners.set(r.name, (types = new Map()));
      const list = types.get(r.type);
      if (!list) types.set(r.type, [r]);
      else if (!list.some((x) => x.value === r.value)) list.push(r);
    };
    for (const apex of this.apexes) {
      const [mname, rname, , ...rest] = apex.soa.value.split(' ');
      add({ ...apex.soa, value: [mname, rname, this.zoneLayers.serial, ...rest].join(' ') });
      add({ name: apex.name, type: 'NS', ttl: this.cfg.ttl, value: mname, origin: 'synthesized' });
    }
    for (const r of this.staticRecords) add(r);
    // PTR for every address record that falls in a configured reverse prefix, unless one is given.
    const reverse = this.cfg.reverse.map((c) => ipaddr.parseCIDR(c));
    for (const types of [...owners.values()]) {
      for (const r of [...(types.get('A') ?? []), ...(types.get('AAAA') ?? [])]) {
        const addr = ipaddr.parse(r.value);
        if (!reverse.some(([net, len]) => net.kind() === addr.kind() && (addr as ipaddr.IPv4).match(net as ipaddr.IPv4, len))) continue;
        const ptrName = reverseName(r.value);
        if (owners.get(ptrName)?.get('PTR')?.some((p) => p.origin === 'static')) continue;
        add({ name: ptrName, type: 'PTR', ttl: r.ttl, value: r.name, origin: r.origin === 'static' ? 'synthesized' : r.origin });
      }
    }
    const existing = new Set<string>();
    for (const name of owners.keys()) {
      const apex = this.apexOf(name);
      let n = name;
      while (!existing.has(n)) {
        existing.add(n);
        if (apex === undefined || n === apex.name || !n.includes('.')) break;
        n = n.slice(n.indexOf('.') + 1);
      }
    }
    this.soaSerial = this.zoneLayers.serial;
    return { owners, existing, serial: this.zoneLayers.serial };
  }

  /** Every record under an apex (SOA first), as a zone transfer sends it: TTLs as of `nowSeconds`. */
  zoneOf(apexName: string): ZoneRecord[] {
    const owners = new Set<string>(this.snap.owners.keys());
    for (const layer of this.layers.values()) for (const o of layer.keys()) owners.add(o);
    const soa = this.lookup(apexName)?.get('SOA');
    if (soa === undefined) return [];
    const out: ZoneRecord[] = [soa[0]];
    for (const o of owners) {
      if (this.apexOf(o)?.name !== apexName) continue;
      for (const [t, list] of this.lookup(o) ?? []) if (t !== 'SOA') out.push(...list);
    }
    return out;
  }

  /** The apex name a name falls under, if it is ours. */
  apexFor(name: string): string | undefined {
    return this.apexOf(name)?.name;
  }

  private apexOf(name: string): Apex | undefined {
    let best: Apex | undefined;
    for (const a of this.apexes) {
      if ((name === a.name || name.endsWith(`.${a.name}`)) && (!best || a.name.length > best.name.length)) best = a;
    }
    return best;
  }

  /**
   * The answer body (a response without OPT) for a query under `apex`, or null when the name is
   * not ours after all (a reverse name under the apex but outside the configured prefix).
   * A CNAME chain that leaves the zone ends with its last CNAME; `leaves.chase` then names the
   * target, for the resolver to follow.
   */
  answer(apex: Apex, q: ParsedQuery, query: Uint8Array, leaves?: { chase?: string }): Buffer | null {
    const c = this.collect(apex, q, leaves);
    return c === null ? null : encodeBody(query, q, c.flags, c.answers, c.authority);
  }

  /**
   * Hot path: the answer as a stored answer, made once and served until what it says changes.
   * null: not ours after all; undefined: a CNAME that leaves the zone (use `answer`, which
   * names the target to follow).
   */
  rendered(apex: Apex, q: ParsedQuery, query: Uint8Array): PackedAnswer | null | undefined {
    const now = systemClock.now();
    const serial = this.zoneLayers.serial;
    const hit = this.renderedAnswers.get(q.key, q.keyHash, now, serial);
    if (hit !== undefined) return hit;
    const owners: string[] = [];
    const leaves: { chase?: string } = {};
    const c = this.collect(apex, q, leaves, owners);
    if (c === null) return null;
    if (leaves.chase !== undefined) return undefined;
    const body = encodeBody(query, q, c.flags, c.answers, c.authority);
    let validUntil = Infinity;
    let carriesSerial = false;
    for (const r of c.answers.concat(c.authority)) {
      if (r.type === 'SOA') carriesSerial = true;
      // The TTL shown stays until the lease's end is nearer than it, then counts down by the second.
      if (r.expires !== undefined) validUntil = Math.min(validUntil, (r.expires - ttlNow(r, now / 1000)) * 1000);
    }
    const e = renderedAnswer(packAnswer(body), validUntil, carriesSerial ? serial : -1);
    this.renderedAnswers.put(q.key, q.keyHash, owners, e);
    return e;
  }

  /** Stop following the layers (a reload made a new zone). */
  close(): void {
    this.unwatch();
    this.renderedAnswers.clear();
  }

  /** The records of an answer; `owners` collects the names it was made from. */
  private collect(apex: Apex, q: ParsedQuery, leaves?: { chase?: string }, owners?: string[]): { flags: number; answers: ZoneRecord[]; authority: ZoneRecord[] } | null {
    const name = wireKeyToName(q.name);
    if (apex.kind === 'reverse' && name !== apex.name) {
      const point = parseReverseName(name);
      const prefixes = this.apexes.filter((a) => a.name === apex.name).map((a) => a.prefix!);
      if (point === null || !prefixes.some((p) => reverseNameInPrefix(point, p))) return null;
    }
    if (this.soaSerial !== this.zoneLayers.serial) this.refreshSoa();
    const snap = this.snap;
    // RFC 2308 §3: the SOA in a negative answer carries min(SOA TTL, MINIMUM).
    const soa = () => snap.owners.get(apex.name)!.get('SOA')!.map((r) => ({ ...r, ttl: Math.min(r.ttl, NEGATIVE_TTL) }));
    const answers: ZoneRecord[] = [];
    let owner = name;
    let rcode: number = Rcode.NOERROR;
    for (let hop = 0; hop <= MAX_CNAME_CHAIN; hop++) {
      owners?.push(owner);
      const types = this.lookup(owner);
      if (types === undefined) {
        if (!snap.existing.has(owner) && !this.zoneLayers.hasDescendant(owner)) rcode = Rcode.NXDOMAIN;
        break;
      }
      if (q.qtype === RRType.ANY) {
        // RFC 8482 allows a subset; our owners are small, so all of it is the useful answer.
        for (const list of types.values()) answers.push(...list);
        break;
      }
      const typeName = ZONE_TYPES.has(q.qtype) ? typeNameOf(q.qtype) : undefined;
      const cname = types.get('CNAME');
      if (cname && typeName !== 'CNAME') {
        answers.push(cname[0]);
        const target = cname[0].value.replace(/\.$/, '').toLowerCase();
        if (this.apexOf(target) !== apex) { // outside this zone: the resolver follows it
          if (leaves !== undefined) leaves.chase = target;
          break;
        }
        owner = target;
        continue;
      }
      const list = typeName ? types.get(typeName) : undefined;
      if (list) answers.push(...list);
      break;
    }
    const authority = answers.length === 0 || rcode === Rcode.NXDOMAIN ? soa() : [];
    return { flags: 0x0400 | 0x0080 | rcode, answers, authority };
  }
}

/**
 * Header + the client's question bytes + records. dns-packet never compresses names, so the
 * record bytes it produces are position-independent and can follow any question.
 * `flagBits` are the low 16 header flag bits without QR/RD (AA, RA, rcode).
 */
export function encodeBody(query: Uint8Array, q: ParsedQuery, flagBits: number, answers: ZoneRecord[], authority: ZoneRecord[]): Buffer {
  const now = Date.now() / 1000;
  const rr = dnsPacket.encode({
    type: 'response', id: 0, flags: 0, questions: [],
    answers: answers.map((r) => toAnswer(r, now)), authorities: authority.map((r) => toAnswer(r, now)),
  });
  const body = Buffer.allocUnsafe(q.questionEnd + rr.length - HEADER_SIZE);
  body.writeUInt16BE(0, 0);
  body.writeUInt16BE(0x8000 | flagBits, 2);
  body.writeUInt16BE(1, 4);
  body.writeUInt16BE(answers.length, 6);
  body.writeUInt16BE(authority.length, 8);
  body.writeUInt16BE(0, 10);
  body.set(query.subarray(HEADER_SIZE, q.questionEnd), HEADER_SIZE);
  rr.copy(body, q.questionEnd, HEADER_SIZE);
  return body;
}
