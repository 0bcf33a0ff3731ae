/**
 * Brings the host's policy routing to a plan: reads what carries protocol 237, deletes what the
 * plan no longer has, replaces routes that differ, adds missing rules. Idempotent, so it runs
 * again after every link event (an interface set down loses its routes). Calls are serialized.
 */
import { systemHost, type HostPort } from '../host/host-port.js';
import { ipBatch, ipJson } from './ip-runner.js';
import {
  ROUTE_PROTO, routeDelete, routeKey, routeReplace, routeValue, ruleAdd, ruleDelete, ruleKey,
  type Family, type IpCommand, type RoutePlan, type RouteSpec, type RuleSpec,
} from './route-plan.js';

export interface IpRule {
  priority: number; src: string; srclen?: number; dst?: string; dstlen?: number; fwmark?: string;
  table?: string; action?: string; suppress_prefixlen?: number; protocol?: string;
}
export interface IpRoute {
  type?: string; dst: string; gateway?: string; dev?: string; table?: string; metric?: number; protocol?: string;
  nexthops?: Array<{ gateway?: string; dev: string; weight?: number }>;
}

function toRule(family: Family, r: IpRule): RuleSpec {
  const hostLen = family === 4 ? 32 : 128;
  const from = r.src === 'all' ? undefined : r.srclen !== undefined && r.srclen !== hostLen ? `${r.src}/${r.srclen}` : r.src;
  const to = r.dst === undefined ? undefined : r.dstlen !== undefined && r.dstlen !== hostLen ? `${r.dst}/${r.dstlen}` : r.dst;
  return {
    family, pref: r.priority, from, to, fwmark: r.fwmark !== undefined ? Number(r.fwmark) : undefined,
    table: r.action === 'prohibit' ? undefined : r.table === 'main' ? 'main' : Number(r.table),
    action: r.action === 'prohibit' ? 'prohibit' : undefined, suppressPrefixLength: r.suppress_prefixlen,
  };
}

function toRoute(family: Family, r: IpRoute): RouteSpec {
  return {
    family, table: Number(r.table), type: r.type === 'unreachable' ? 'unreachable' : 'unicast', metric: r.metric || undefined,
    via: r.gateway, dev: r.dev,
    nexthops: r.nexthops?.map((h) => ({ via: h.gateway, dev: h.dev, weight: h.weight ?? 1 })),
  };
}

/**
 * Ours among what `ip -j rule show` and `ip -j route show table all` list: protocol 237 only, so
 * an operator's own rules and routes are never read as ours (and never deleted).
 */
export function installedOf(family: Family, rules: IpRule[], routes: IpRoute[]): RoutePlan {
  return {
    rules: rules.filter((r) => r.protocol === String(ROUTE_PROTO)).map((r) => toRule(family, r)),
    routes: routes.filter((r) => r.protocol === String(ROUTE_PROTO) && r.dst === 'default' && r.table !== undefined).map((r) => toRoute(family, r)),
  };
}

export async function readInstalled(host: HostPort = systemHost): Promise<RoutePlan> {
  const routes: RouteSpec[] = [];
  const rules: RuleSpec[] = [];
  for (const family of [4, 6] as const) {
    const rs = await ipJson<IpRule[]>(family, ['rule', 'show'], host);
    const rt = await ipJson<IpRoute[]>(family, ['route', 'show', 'table', 'all'], host);
    const mine = installedOf(family, rs, rt);
    rules.push(...mine.rules);
    routes.push(...mine.routes);
  }
  return { routes, rules };
}

/** The commands that take `installed` to `want`. */
export function reconcile(installed: RoutePlan, want: RoutePlan): IpCommand[] {
  const out: IpCommand[] = [];
  const haveRoutes = new Map(installed.routes.map((r) => [routeKey(r), r]));
  const wantRoutes = new Map(want.routes.map((r) => [routeKey(r), r]));
  for (const [k, r] of wantRoutes) {
    const have = haveRoutes.get(k);
    if (have === undefined || routeValue(have) !== routeValue(r)) out.push(routeReplace(r));
  }
  const haveRules = new Map(installed.rules.map((r) => [ruleKey(r), r]));
  const wantRules = new Map(want.rules.map((r) => [ruleKey(r), r]));
  for (const [k, r] of wantRules) if (!haveRules.has(k)) out.push(ruleAdd(r));
  for (const [k, r] of haveRules) if (!wantRules.has(k)) out.push(ruleDelete(r));
  for (const [k, r] of haveRoutes) if (!wantRoutes.has(k)) out.push(routeDelete(r));
  return out;
}

export class RouteApplier {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly host: HostPort = systemHost) {}

  /** Apply a plan; resolves with the commands run (none when the host already matches). */
  apply(plan: RoutePlan): Promise<IpCommand[]> {
    const next = this.chain.then(async () => {
      const cmds = reconcile(await readInstalled(this.host), plan);
      if (cmds.length > 0) await ipBatch(cmds, this.host);
      return cmds;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Remove every route and rule edgedns added (protocol 237), and nothing else. */
  removeAll(): Promise<IpCommand[]> {
    return this.apply({ routes: [], rules: [] });
  }
}
