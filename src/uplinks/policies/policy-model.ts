/**
 * `multi-wan.policies`: which uplink carries a class of traffic, matched by source prefix,
 * destination prefix, or domain (the addresses edgedns's own answers give for it). First match
 * wins; no match follows the default selection.
 */
import type { RawUplinks } from '../uplinks-schema.js';
import { normalizeName } from '../../dns/name.js';
import { networkOf } from '../../prefix.js';

export type Fallback = 'default' | 'drop';

export interface Policy {
  name: string;
  /** position in the file: rule order */
  index: number;
  /** normalized names; each covers itself and everything under it */
  domains: string[];
  source: string[];
  destination: string[];
  /** preference order */
  uplinks: string[];
  fallback: Fallback;
  /** seconds a learned address outlives its record's TTL */
  graceS: number;
}

export function policiesFromConfig(raw: RawUplinks): Policy[] {
  return (raw['multi-wan']?.policies ?? []).map((p, index) => ({
    name: p.name,
    index,
    domains: (p.match.domains ?? []).map((d) => normalizeName(d)),
    source: (p.match.source ?? []).map(networkOf),
    destination: (p.match.destination ?? []).map(networkOf),
    uplinks: p.uplinks,
    fallback: p.fallback,
    graceS: Math.round(p.grace / 1000),
  }));
}

/** Packet marks edgedns sets for domain policies: 0xed00 | (uplink index + 1), under mask 0xffff. */
export const MARK_BASE = 0xed00;
export const MARK_MASK = 0xffff;

export function uplinkMark(uplinkIndex: number): number {
  return MARK_BASE | (uplinkIndex + 1);
}

/** nftables identifier of a policy's sets and counter. */
export function nftName(policy: Pick<Policy, 'name'>): string {
  return policy.name.replace(/-/g, '_');
}
