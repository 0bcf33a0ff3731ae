/**
 * Policy routing as data, and as the `ip` commands that install it. Pure: config + selection →
 * plan → command lines; `route-applier.ts` runs them. Everything edgedns installs carries
 * protocol 237, so it can find and remove its own routes and rules and nothing else.
 *
 * Per uplink (table T, from `table`):      default via GW dev IF; unreachable default metric 65535
 *   (without the unreachable route a dead uplink's traffic falls through to the main table and
 *   leaves by the other WAN with the wrong source address)
 * Rules, in the band edgedns owns (base = multi-wan.rule-priority):
 *   base        lookup main suppress_prefixlength 0   main's specific routes (LAN, links) first
 *   base+100+i  from <uplink source> lookup T          sockets bound to an uplink leave by it
 *   base+900    lookup <default-table>                 everything else: the selection
 * The default table holds the selected uplink's default route (failover) or one multipath route
 * weighted over the healthy uplinks (load-balance; the kernel hashes per flow, never per packet).
 * base+1 … base+99: multi-wan.policies (policies/policy-rules.ts): fwmark rules of domain
 * policies at base+1, source/destination rules at base+10+i for policy i.
 */
import { isIPv6 } from 'node:net';
import type { MultiWan, Uplink } from './uplink-model.js';
import { MARK_MASK } from './policies/policy-model.js';

export const ROUTE_PROTO = 237;
export const UNREACHABLE_METRIC = 65535;

export type Family = 4 | 6;

export interface NextHop {
  via?: string;
  dev: string;
  weight: number;
}

export interface RouteSpec {
  family: Family;
  table: number;
  type: 'unicast' | 'unreachable';
  metric?: number;
  via?: string;
  dev?: string;
  /** more than one: a multipath route */
  nexthops?: NextHop[];
}

export interface RuleSpec {
  family: Family;
  pref: number;
  /** an address or prefix; undefined: all */
  from?: string;
  /** a destination prefix (policies) */
  to?: string;
  /** a packet mark, matched under MARK_MASK (domain policies) */
  fwmark?: number;
  /** the table to look up; absent with `action` */
  table?: number | 'main';
  /** `prohibit`: a policy whose uplinks are all down and whose fallback is drop */
  action?: 'prohibit';
  suppressPrefixLength?: number;
}

export interface RoutePlan {
  routes: RouteSpec[];
  rules: RuleSpec[];
}

export interface PlanInput {
  uplinks: Uplink[];
  /** per-policy rules (policies/policy-rules.ts), in the band base+1 … base+99 */
  policyRules?: RuleSpec[];
  multiWan: MultiWan;
  /** source addresses per uplink (configured, or found on the interface) */
  sources: ReadonlyMap<string, string[]>;
  /** uplinks in use, best first */
  active: string[];
  /**
   * false on an HA backup: only what the gateway's own traffic needs (the uplink tables, the
   * source rules, main first); neither the selection nor the policies steer forwarded traffic.
   */
  forwarding?: boolean;
}

export function uplinkFamily(u: Uplink): Family {
  return (u.gateway ?? u.source ?? '').includes(':') ? 6 : 4;
}

export function planRoutes({ uplinks, multiWan, sources, active, policyRules = [], forwarding = true }: PlanInput): RoutePlan {
  const base = multiWan.rulePriority;
  const routes: RouteSpec[] = [];
  const rules: RuleSpec[] = forwarding ? [...policyRules] : [];
  const families = new Set<Family>();
  uplinks.forEach((u, i) => {
    const family = uplinkFamily(u);
    families.add(family);
    routes.push({ family, table: u.table, type: 'unicast', via: u.gateway, dev: u.interface });
    routes.push({ family, table: u.table, type: 'unreachable', metric: UNREACHABLE_METRIC });
    for (const src of sources.get(u.name) ?? []) {
      rules.push({ family: isIPv6(src) ? 6 : 4, pref: base + 100 + i, from: src, table: u.table });
    }
  });
  for (const family of [...families].sort()) {
    rules.push({ family, pref: base, table: 'main', suppressPrefixLength: 0 });
    if (!forwarding) continue;
    rules.push({ family, pref: base + 900, table: multiWan.defaultTable });
    const hops = active.map((n) => uplinks.find((u) => u.name === n)).filter((u): u is Uplink => u !== undefined && uplinkFamily(u) === family);
    if (hops.length === 1) routes.push({ family, table: multiWan.defaultTable, type: 'unicast', via: hops[0].gateway, dev: hops[0].interface });
    else if (hops.length > 1) {
      routes.push({ family, table: multiWan.defaultTable, type: 'unicast', nexthops: hops.map((u) => ({ via: u.gateway, dev: u.interface, weight: u.weight })) });
    }
  }
  rules.sort((a, b) => a.family - b.family || a.pref - b.pref);
  return { routes, rules };
}

/** A route's identity (what `ip route replace` replaces) and its content. */
export function routeKey(r: RouteSpec): string {
  return `${r.family} table ${r.table} ${r.type} default metric ${r.metric ?? 0}`;
}

export function routeValue(r: RouteSpec): string {
  if (r.nexthops) return r.nexthops.map((h) => `nexthop${h.via ? ` via ${h.via}` : ''} dev ${h.dev} weight ${h.weight}`).join(' ');
  return `${r.via ? `via ${r.via} ` : ''}${r.dev ? `dev ${r.dev}` : ''}`.trim();
}

function ruleMatch(r: RuleSpec): string {
  return `${r.from !== undefined ? ` from ${r.from}` : ''}${r.to !== undefined ? ` to ${r.to}` : ''}${r.fwmark !== undefined ? ` fwmark 0x${r.fwmark.toString(16)}/0x${MARK_MASK.toString(16)}` : ''}`;
}

function ruleTarget(r: RuleSpec): string {
  const sup = r.suppressPrefixLength !== undefined ? ` suppress_prefixlength ${r.suppressPrefixLength}` : '';
  return `${r.action ?? `lookup ${r.table}`}${sup}`;
}

export function ruleKey(r: RuleSpec): string {
  return `${r.family} pref ${r.pref}${ruleMatch(r) || ' from all'} ${ruleTarget(r)}`;
}

/** One `ip` command (without the leading `ip`), for a batch of its family. */
export interface IpCommand {
  family: Family;
  args: string;
}

export function routeReplace(r: RouteSpec): IpCommand {
  const metric = r.metric !== undefined ? ` metric ${r.metric}` : '';
  const what = r.type === 'unreachable' ? 'unreachable default' : 'default';
  const hops = r.type === 'unreachable' ? '' : ` ${routeValue(r)}`; // nexthop lists must come last
  return { family: r.family, args: `route replace ${what} table ${r.table}${metric} proto ${ROUTE_PROTO}${hops}`.trimEnd() };
}

export function routeDelete(r: RouteSpec): IpCommand {
  const type = r.type === 'unreachable' ? 'unreachable ' : '';
  return { family: r.family, args: `route del ${type}default table ${r.table} metric ${r.metric ?? 0} proto ${ROUTE_PROTO}` };
}

function ruleArgs(r: RuleSpec): string {
  return `${ruleMatch(r)} ${ruleTarget(r)} pref ${r.pref} protocol ${ROUTE_PROTO}`;
}

export function ruleAdd(r: RuleSpec): IpCommand {
  return { family: r.family, args: `rule add${ruleArgs(r)}` };
}

export function ruleDelete(r: RuleSpec): IpCommand {
  return { family: r.family, args: `rule del${ruleArgs(r)}` };
}

/** The commands that install a plan on a host that has none of it: what `--dry-run` prints. */
export function planCommands(plan: RoutePlan): IpCommand[] {
  return [...plan.routes.map(routeReplace), ...plan.rules.map(ruleAdd)];
}

/** As a person would type it. */
export function formatCommand(c: IpCommand): string {
  return `ip ${c.family === 6 ? '-6 ' : ''}${c.args}`;
}
