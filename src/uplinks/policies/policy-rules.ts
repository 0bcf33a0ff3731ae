/**
 * Policies as `ip rule`s, in the band edgedns owns (route-plan.ts): one fwmark rule per uplink
 * when any policy matches domains (nftables marks those packets, nft-render.ts) or flows are
 * kept on their uplink (`multi-wan.nat`, flows/nat-render.ts), and per
 * source/destination policy a rule per (source, destination) pair of one family. A policy that
 * falls back to the default has no rule; one that drops gets `prohibit`.
 */
import { isIPv6 } from 'node:net';
import type { Uplink } from '../uplink-model.js';
import type { Family, RuleSpec } from '../route-plan.js';
import type { PolicyDecision } from './policy-decision.js';
import { uplinkMark, type Policy } from './policy-model.js';

const familyOf = (prefix: string): Family => (isIPv6(prefix.split('/')[0]) ? 6 : 4);
/** A host prefix as `ip rule` shows it (10.0.0.5/32 → 10.0.0.5), so plan and host compare equal. */
const asShown = (prefix: string): string => prefix.replace(/^([^:]+)\/32$|^(.*:.*)\/128$/, (_m, v4: string | undefined, v6: string | undefined) => v4 ?? v6!);

export function policyRules(policies: Policy[], decisions: PolicyDecision[], uplinks: Uplink[], base: number, uplinkFamily: (u: Uplink) => Family, stickyFlows = false): RuleSpec[] {
  const rules: RuleSpec[] = [];
  if (stickyFlows || policies.some((p) => p.domains.length > 0)) {
    uplinks.forEach((u, j) => rules.push({ family: uplinkFamily(u), pref: base + 1, fwmark: uplinkMark(j), table: u.table }));
  }
  policies.forEach((p, i) => {
    if (p.domains.length > 0) return;
    const d = decisions[i];
    if (d.action === 'default') return;
    const table = d.action === 'uplink' ? uplinks.find((u) => u.name === d.uplink)?.table : undefined;
    const froms: Array<string | undefined> = p.source.length > 0 ? p.source.map(asShown) : [undefined];
    const tos: Array<string | undefined> = p.destination.length > 0 ? p.destination.map(asShown) : [undefined];
    for (const from of froms) {
      for (const to of tos) {
        const fams = [from, to].filter((x): x is string => x !== undefined).map(familyOf);
        if (fams.length === 2 && fams[0] !== fams[1]) continue; // a v4 source never talks to a v6 prefix
        const family = fams[0] ?? 4;
        rules.push(d.action === 'drop'
          ? { family, pref: base + 10 + i, from, to, action: 'prohibit' }
          : { family, pref: base + 10 + i, from, to, table });
      }
    }
  });
  return rules;
}
