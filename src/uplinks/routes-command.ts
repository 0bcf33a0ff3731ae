/**
 * `edgedns uplinks routes -c FILE --dry-run`: the `ip` commands policy routing would run on a
 * host with none of it installed, every uplink taken as healthy. Source addresses not in the
 * file are read off the interfaces of this host, as the server would.
 */
import { renderNat } from './flows/nat-render.js';
import { isIPv6 } from 'node:net';
import type { Config } from '../config/types.js';
import { interfaceAddress } from './interface-address.js';
import { formatCommand, planCommands, planRoutes, uplinkFamily } from './route-plan.js';
import { decidePolicies } from './policies/policy-decision.js';
import { policyRules } from './policies/policy-rules.js';
import { renderNft } from './policies/nft-render.js';
import { select } from './selection.js';
import { sectionOf } from '../config/section.js';
import { UPLINKS } from './uplinks-key.js';

export function dryRunRoutes(config: Config): string {
  const { uplinks, multiWan } = sectionOf(config, UPLINKS);
  if (uplinks.length === 0) return '# no uplinks configured: nothing to route\n';
  const notes: string[] = [];
  const sources = new Map(uplinks.map((u) => {
    const list = u.source !== undefined
      ? [u.source, interfaceAddress(u.interface, isIPv6(u.source) ? 4 : 6)]
      : [interfaceAddress(u.interface, 4), interfaceAddress(u.interface, 6)];
    const found = list.filter((a): a is string => a !== undefined);
    if (found.length === 0) notes.push(`# ${u.name}: no source address (${u.interface} has none on this host): its from-rule is left out`);
    return [u.name, found];
  }));
  const selection = select(multiWan.mode, uplinks.map((u) => ({ name: u.name, priority: u.priority, weight: u.weight, healthy: true, stable: true })), null);
  const decisions = decidePolicies(multiWan.policies, () => true);
  const policyRuleSpecs = policyRules(multiWan.policies, decisions, uplinks, multiWan.rulePriority, uplinkFamily, multiWan.nat === 'masquerade');
  const plan = planRoutes({ uplinks, multiWan, sources, active: selection.active, policyRules: policyRuleSpecs });
  const nft = multiWan.policies.length === 0 ? [] : [
    '# multi-wan policies: nftables, one transaction',
    "nft -f - <<'EOF'",
    renderNft(multiWan.policies, decisions, (n) => uplinks.findIndex((u) => u.name === n), { sets: [], counters: [], chains: [] }).trimEnd(),
    'EOF',
  ];
  const nat = multiWan.nat === 'none' ? [] : [
    '# multi-wan NAT: masquerade per uplink, flows kept on their uplink',
    "nft -f - <<'EOF'",
    renderNat(uplinks.map((u) => u.interface)).trimEnd(),
    'EOF',
  ];
  return [
    `# multi-wan ${multiWan.mode}, every uplink healthy: ${selection.active.join(', ')} selected`,
    ...notes,
    ...planCommands(plan).map(formatCommand),
    ...nft,
    ...nat,
  ].join('\n') + '\n';
}
