import { describe, expect, it } from 'vitest';
import { parseEdgeConfig as parseConfig } from '../app/sections.js';
import { installedOf, reconcile, type IpRoute, type IpRule } from './route-applier.js';
import { formatCommand, planCommands, planRoutes } from './route-plan.js';
import { sectionOf } from '../config/section.js';
import { UPLINKS } from './uplinks-section.js';

const yaml = (mode: string) => `
uplinks:
  - { name: wan-a, interface: wan1, source: 10.201.0.2, gateway: 10.201.0.1, table: 101, priority: 100, weight: 1 }
  - { name: wan-b, interface: wan2, source: 10.202.0.2, gateway: 10.202.0.1, table: 102, priority: 50, weight: 3 }
multi-wan: { mode: ${mode}, apply-routes: true }
`;

function plan(mode: string, active: string[]) {
  const raw = parseConfig(yaml(mode), 't.yaml');
  const sources = new Map([['wan-a', ['10.201.0.2']], ['wan-b', ['10.202.0.2']]]);
  return planRoutes({ uplinks: sectionOf(raw, UPLINKS).uplinks, multiWan: sectionOf(raw, UPLINKS).multiWan, sources, active });
}

describe('planRoutes → ip commands', () => {
  it('failover: per-uplink tables with an unreachable fallback, source rules, the selection in the default table', () => {
    expect(planCommands(plan('failover', ['wan-a'])).map(formatCommand)).toEqual([
      'ip route replace default table 101 proto 237 via 10.201.0.1 dev wan1',
      'ip route replace unreachable default table 101 metric 65535 proto 237',
      'ip route replace default table 102 proto 237 via 10.202.0.1 dev wan2',
      'ip route replace unreachable default table 102 metric 65535 proto 237',
      'ip route replace default table 100 proto 237 via 10.201.0.1 dev wan1',
      'ip rule add lookup main suppress_prefixlength 0 pref 10000 protocol 237',
      'ip rule add from 10.201.0.2 lookup 101 pref 10100 protocol 237',
      'ip rule add from 10.202.0.2 lookup 102 pref 10101 protocol 237',
      'ip rule add lookup 100 pref 10900 protocol 237',
    ]);
  });

  it('failover to wan-b changes only the default table route', () => {
    const a = planCommands(plan('failover', ['wan-a'])).map(formatCommand);
    const b = planCommands(plan('failover', ['wan-b'])).map(formatCommand);
    expect(b.filter((l) => !a.includes(l))).toEqual(['ip route replace default table 100 proto 237 via 10.202.0.1 dev wan2']);
  });

  it('load-balance: one multipath default weighted over the healthy uplinks', () => {
    const cmds = planCommands(plan('load-balance', ['wan-a', 'wan-b'])).map(formatCommand);
    expect(cmds).toContain('ip route replace default table 100 proto 237 nexthop via 10.201.0.1 dev wan1 weight 1 nexthop via 10.202.0.1 dev wan2 weight 3');
  });

  it('IPv6 uplinks render as ip -6 commands', () => {
    const raw = parseConfig('uplinks:\n  - { name: v6, interface: wan6, source: "2001:db8::2", gateway: "2001:db8::1" }\n', 't');
    const p = planRoutes({ uplinks: sectionOf(raw, UPLINKS).uplinks, multiWan: sectionOf(raw, UPLINKS).multiWan, sources: new Map([['v6', ['2001:db8::2']]]), active: ['v6'] });
    expect(planCommands(p).map(formatCommand)).toContain('ip -6 rule add from 2001:db8::2 lookup 101 pref 10100 protocol 237');
  });
});

describe('reconcile', () => {
  it('does nothing when the host already has the plan', () => {
    const p = plan('failover', ['wan-a']);
    expect(reconcile(p, p)).toEqual([]);
  });

  it('from nothing: every route and rule', () => {
    expect(reconcile({ routes: [], rules: [] }, plan('failover', ['wan-a']))).toHaveLength(9);
  });

  it('replaces a route whose content changed and removes what the plan dropped', () => {
    const installed = plan('failover', ['wan-a']);
    installed.rules.push({ family: 4, pref: 10102, from: '10.203.0.2', table: 103 }); // a removed uplink's rule
    installed.routes.push({ family: 4, table: 103, type: 'unreachable', metric: 65535 });
    expect(reconcile(installed, plan('failover', ['wan-b'])).map(formatCommand)).toEqual([
      'ip route replace default table 100 proto 237 via 10.202.0.1 dev wan2',
      'ip rule del from 10.203.0.2 lookup 103 pref 10102 protocol 237',
      'ip route del unreachable default table 103 metric 65535 proto 237',
    ]);
  });

  it('removing everything deletes exactly what carries protocol 237', () => {
    const cmds = reconcile(plan('failover', ['wan-a']), { routes: [], rules: [] }).map(formatCommand);
    expect(cmds).toHaveLength(9);
    expect(cmds.every((c) => / (rule|route) del /.test(c) && c.endsWith('237'))).toBe(true);
  });

  it('reads only what carries protocol 237: a foreign rule and route are never ours, so never deleted', () => {
    const rules: IpRule[] = [
      { priority: 10100, src: '10.201.0.2', table: '101', protocol: '237' },
      { priority: 500, src: '192.168.7.0', srclen: 24, table: '200', protocol: 'static' }, // the operator's own
      { priority: 32766, src: 'all', table: 'main' },
    ];
    const routes: IpRoute[] = [
      { dst: 'default', gateway: '10.201.0.1', dev: 'wan1', table: '101', protocol: '237' },
      { dst: 'default', gateway: '192.168.7.1', dev: 'lan9', table: '200', protocol: 'static' },
      { dst: 'default', gateway: '10.201.0.1', dev: 'wan1', protocol: 'dhcp' }, // main table, from the WAN's DHCP client
    ];
    const mine = installedOf(4, rules, routes);
    expect(mine.rules.map((r) => r.pref)).toEqual([10100]);
    expect(mine.routes.map((r) => r.table)).toEqual([101]);
    const cleanup = reconcile(mine, { routes: [], rules: [] }).map(formatCommand);
    expect(cleanup).toEqual(['ip rule del from 10.201.0.2 lookup 101 pref 10100 protocol 237', 'ip route del default table 101 metric 0 proto 237']);
    expect(cleanup.join('\n')).not.toMatch(/192\.168\.7|table 200/);
  });
});
