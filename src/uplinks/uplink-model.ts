/**
 * The uplink model: the `uplinks:` and `multi-wan:` sections as typed values, with the defaults
 * CONFIG.md promises. Durations are milliseconds. Pure: the interface's addresses are looked up
 * by the monitor at run time, because a WAN's DHCP address can change under us.
 */
import { policiesFromConfig, type Policy } from './policies/policy-model.js';
import type { RawUplinks } from './uplinks-schema.js';

export type ProbeType = 'dns' | 'icmp' | 'tcp' | 'http';

export interface ProbeSpec {
  type: ProbeType;
  /** dns/icmp/tcp: an address (dns and tcp may add :port); http: a URL */
  target: string;
  intervalMs: number;
  timeoutMs: number;
  /** dns: the name to ask (default: the root's NS) */
  name?: string;
  port?: number;
}

export interface Uplink {
  name: string;
  interface: string;
  /** upstream sockets and probes bind here; undefined: the interface's first address */
  source?: string;
  gateway?: string;
  table: number;
  priority: number;
  weight: number;
  probes: ProbeSpec[];
  minTargetsUp: number;
  downAfter: number;
  upAfter: number;
  holdDownMs: number;
  minUpMs: number;
}

export type MultiWanMode = 'failover' | 'load-balance';

export interface MultiWan {
  mode: MultiWanMode;
  applyRoutes: boolean;
  /** the table holding the default route(s) edgedns chooses */
  defaultTable: number;
  /** the first `ip rule` priority of the band edgedns owns (band: base … base+999) */
  rulePriority: number;
  /** multi-wan.policies, in file order */
  policies: Policy[];
  /** masquerade: IPv4 LAN traffic leaves each uplink with that uplink's address (flows/) */
  nat: 'none' | 'masquerade';
  /** flush: conntrack entries of flows through an uplink that went down are removed */
  onFailover: 'flush' | 'keep';
}

/** Uplink tables default to 101, 102, … in file order; the default table to 100. */
export const DEFAULT_TABLE = 100;
export const DEFAULT_RULE_PRIORITY = 10_000;
/** Rounds of a probe-less uplink (carrier only) come this often. */
export const CARRIER_ROUND_MS = 1000;

export function uplinksFromConfig(raw: RawUplinks): Uplink[] {
  return raw.uplinks.map((u, i) => ({
    name: u.name,
    interface: u.interface,
    source: u.source,
    gateway: u.gateway,
    table: u.table ?? DEFAULT_TABLE + 1 + i,
    priority: u.priority,
    weight: u.weight,
    probes: u.probes.map((p) => ({ type: p.type, target: p.target, intervalMs: p.interval, timeoutMs: p.timeout, name: p.name, port: p.port })),
    minTargetsUp: u['min-targets-up'],
    downAfter: u['down-after'],
    upAfter: u['up-after'],
    holdDownMs: u['hold-down'],
    minUpMs: u['min-up'] ?? 0,
  }));
}

export function multiWanFromConfig(raw: RawUplinks): MultiWan {
  const m = raw['multi-wan'];
  return {
    mode: m?.mode ?? 'failover',
    applyRoutes: m?.['apply-routes'] ?? false,
    defaultTable: m?.['default-table'] ?? DEFAULT_TABLE,
    rulePriority: m?.['rule-priority'] ?? DEFAULT_RULE_PRIORITY,
    policies: policiesFromConfig(raw),
    nat: m?.nat ?? 'none',
    onFailover: m?.['on-failover'] ?? 'flush',
  };
}

/** How often an uplink runs a probe round: its most frequent probe, or the carrier check. */
export function roundInterval(u: Uplink): number {
  return u.probes.length === 0 ? CARRIER_ROUND_MS : Math.min(...u.probes.map((p) => p.intervalMs));
}
