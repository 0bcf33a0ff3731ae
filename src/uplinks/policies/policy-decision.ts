/**
 * Which uplink each policy uses now: the first healthy one of its list, else its fallback.
 * Pure, so the ip rules (uplink-monitor's plan) and the nftables marks (policy-engine) that
 * both follow it always agree.
 */
import type { Policy } from './policy-model.js';

export type PolicyAction = 'uplink' | 'default' | 'drop';

export interface PolicyDecision {
  policy: string;
  action: PolicyAction;
  /** the uplink in force when action is `uplink` */
  uplink: string | null;
  /** why, for /policies and the log */
  reason: string;
}

export function decidePolicies(policies: Policy[], healthy: (uplink: string) => boolean): PolicyDecision[] {
  return policies.map((p) => {
    const i = p.uplinks.findIndex(healthy);
    if (i === 0) return { policy: p.name, action: 'uplink', uplink: p.uplinks[0], reason: `${p.uplinks[0]} is healthy` };
    if (i > 0) {
      return { policy: p.name, action: 'uplink', uplink: p.uplinks[i], reason: `${p.uplinks.slice(0, i).join(', ')} down; next healthy in the list` };
    }
    const none = `none of ${p.uplinks.join(', ')} is healthy`;
    return p.fallback === 'drop'
      ? { policy: p.name, action: 'drop', uplink: null, reason: `${none}: fallback drop` }
      : { policy: p.name, action: 'default', uplink: null, reason: `${none}: fallback to the default selection` };
  });
}
