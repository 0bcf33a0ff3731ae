/**
 * Checks of `multi-wan.policies` the schema cannot express. Errors name the policy; an overlap
 * of source prefixes between two policies is only a warning (first match wins, as documented).
 */
import type { RawUplinks } from '../uplinks-schema.js';
import type { PathIssue } from '../../config/validate.js';
import { overlaps } from '../../prefix.js';
import { nftName, policiesFromConfig } from './policy-model.js';

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,30}$/;
const DOMAIN = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?$/;
/** base+10+i must stay below base+100, where the per-uplink source rules start */
export const MAX_POLICIES = 89;

export function checkPolicies(raw: RawUplinks): { errors: PathIssue[]; warnings: PathIssue[] } {
  const errors: PathIssue[] = [];
  const warnings: PathIssue[] = [];
  const list = raw['multi-wan']?.policies ?? [];
  if (list.length === 0) return { errors, warnings };
  const uplinks = new Set(raw.uplinks.map((u) => u.name));
  if (raw['multi-wan']?.['apply-routes'] !== true) {
    errors.push({ path: ['multi-wan', 'policies'], message: 'policies need multi-wan.apply-routes: true (they are ip rules and nftables marks)' });
  }
  if (list.length > MAX_POLICIES) errors.push({ path: ['multi-wan', 'policies'], message: `at most ${MAX_POLICIES} policies` });
  const seen = new Map<string, number>();
  const policies = policiesFromConfig(raw);
  list.forEach((p, i) => {
    const at = (...rest: Array<string | number>) => ['multi-wan', 'policies', i, ...rest];
    const who = `policy "${p.name}"`;
    if (!NAME.test(p.name)) errors.push({ path: at('name'), message: `${who}: a name is a letter then letters, digits, _ or - (up to 31)` });
    const key = nftName(p).toLowerCase();
    if (seen.has(key)) errors.push({ path: at('name'), message: `${who}: the name is already used by policies[${seen.get(key)}]` });
    seen.set(key, i);
    const m = p.match;
    if (!m.domains?.length && !m.source?.length && !m.destination?.length) {
      errors.push({ path: at('match'), message: `${who}: match needs domains, source or destination` });
    }
    if (m.domains?.length && m.destination?.length) {
      errors.push({ path: at('match', 'destination'), message: `${who}: match domains or destination prefixes, not both (the domains' addresses are the destination)` });
    }
    (m.domains ?? []).forEach((d, j) => {
      if (!DOMAIN.test(d) || d.length > 253) errors.push({ path: at('match', 'domains', j), message: `${who}: "${d}" is not a domain name` });
    });
    p.uplinks.forEach((u, j) => {
      if (!uplinks.has(u)) errors.push({ path: at('uplinks', j), message: `${who}: no uplink is named "${u}"` });
    });
    for (let k = 0; k < i; k++) {
      const clash = policies[i].source.find((s) => policies[k].source.some((o) => overlaps(s, o)));
      if (clash) warnings.push({ path: at('match', 'source'), message: `${who}: source ${clash} overlaps policy "${policies[k].name}"; the first match wins` });
    }
  });
  return { errors, warnings };
}
