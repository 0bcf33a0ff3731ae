/**
 * What one external primary should hold of ours: the lease names renamed into its zone (A,
 * AAAA) and, in the reverse zones it holds, their PTRs, each owner with the DHCID that marks it
 * as ours (RFC 4703). Pure: the push diffs this against what the primary acknowledged.
 */
import { createHash } from 'node:crypto';
import { reverseName } from '../dns/reverse.js';
import type { LeaseClaim } from '../leases/lease-feed.js';
import { dhcidFor } from './dhcid.js';
import type { PushTarget } from './ddns-section.js';

export type PushedType = 'A' | 'AAAA' | 'PTR';

/** One owner on the primary as we want it (or as it acknowledged it). */
export interface PushedName {
  /** the zone section of the UPDATE: the target's zone or one of its reverse zones */
  zone: string;
  records: Array<{ type: PushedType; value: string }>;
  ttl: number;
  /** base64 DHCID RDATA */
  dhcid: string;
}

/** The types an owner of this kind is ours to replace: forward names their addresses, reverse names their PTR. */
export function managedTypes(n: PushedName): PushedType[] {
  return n.records[0]?.type === 'PTR' ? ['PTR'] : ['A', 'AAAA'];
}

export function samePushed(a: PushedName | undefined, b: PushedName | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.zone !== b.zone || a.ttl !== b.ttl || a.dhcid !== b.dhcid || a.records.length !== b.records.length) return false;
  return a.records.every((r, i) => r.type === b.records[i].type && r.value === b.records[i].value);
}

/** A lease row without hwaddr, client-id or DUID still needs an identity: one made from its address. */
function clientOrAddress(c: LeaseClaim): string {
  return c.client || `ffff${createHash('sha256').update(c.address).digest('hex').slice(0, 32)}`;
}

function under(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** owner on the primary → what it should hold, for the claims served in `domain` now. */
export function desiredFor(target: PushTarget, domain: string, claims: LeaseClaim[]): Map<string, PushedName> {
  const out = new Map<string, PushedName>();
  const sorted = [...claims].sort((a, b) => (a.type === b.type ? (a.address < b.address ? -1 : 1) : a.type === 'A' ? -1 : 1));
  for (const c of sorted) {
    if (!c.name.endsWith(`.${domain}`)) continue;
    const fqdn = `${c.name.slice(0, -domain.length - 1)}.${target.zone}`;
    const client = clientOrAddress(c);
    let fwd = out.get(fqdn);
    if (!fwd) out.set(fqdn, (fwd = { zone: target.zone, records: [], ttl: c.ttl, dhcid: dhcidFor(client, fqdn) }));
    fwd.records.push({ type: c.type, value: c.address });
    const rev = reverseName(c.address);
    const zone = target.reverseZones.find((z) => under(rev, z));
    if (zone !== undefined && !out.has(rev)) out.set(rev, { zone, records: [{ type: 'PTR', value: fqdn }], ttl: c.ttl, dhcid: dhcidFor(client, fqdn) });
  }
  return out;
}
