/**
 * Checks of `uplinks:` and `multi-wan:` the schema cannot express: unique names and tables,
 * probe targets that fit their type, a quorum the probes can meet, addresses of one family.
 */
import { isIP } from 'node:net';
import type { RawUplinks } from './uplinks-schema.js';
import type { PathIssue } from '../config/validate.js';
import { hostPort } from './probes/probe.js';
import { DEFAULT_TABLE, uplinksFromConfig } from './uplink-model.js';

/** Tables the kernel reserves: unspec, default, main, local. */
const RESERVED_TABLES = new Set([0, 253, 254, 255]);

function probeTargetError(type: string, target: string): string | null {
  if (type === 'http') {
    try {
      const u = new URL(target);
      return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'an http probe needs an http:// or https:// URL';
    } catch {
      return 'an http probe needs a URL';
    }
  }
  if (type === 'icmp') return isIP(target) ? null : 'an icmp probe needs an IP address';
  return isIP(hostPort(target, 0).host) ? null : `a ${type} probe needs an IP address (optionally :port)`;
}

export function checkUplinks(raw: RawUplinks): PathIssue[] {
  const issues: PathIssue[] = [];
  const defaultTable = raw['multi-wan']?.['default-table'] ?? DEFAULT_TABLE;
  const seenNames = new Map<string, number>();
  const seenTables = new Map<number, number>();
  const typed = uplinksFromConfig(raw);
  raw.uplinks.forEach((u, i) => {
    const at = (...rest: Array<string | number>) => ['uplinks', i, ...rest];
    if (seenNames.has(u.name)) issues.push({ path: at('name'), message: `uplink "${u.name}" is already defined (uplinks[${seenNames.get(u.name)}])` });
    seenNames.set(u.name, i);
    const table = typed[i].table;
    if (RESERVED_TABLES.has(table)) issues.push({ path: at('table'), message: `table ${table} is reserved by the kernel` });
    else if (table === defaultTable) issues.push({ path: at('table'), message: `table ${table} is multi-wan.default-table` });
    else if (seenTables.has(table)) issues.push({ path: at('table'), message: `table ${table} is already used by uplinks[${seenTables.get(table)}]` });
    seenTables.set(table, i);
    if (u.source && u.gateway && isIP(u.source) !== isIP(u.gateway)) {
      issues.push({ path: at('gateway'), message: 'source and gateway must be of one address family' });
    }
    u.probes.forEach((p, j) => {
      const err = probeTargetError(p.type, p.target);
      if (err) issues.push({ path: at('probes', j, 'target'), message: err });
      if (p.timeout > p.interval) issues.push({ path: at('probes', j, 'timeout'), message: 'timeout is longer than interval' });
    });
    if (u.probes.length > 0 && u['min-targets-up'] > u.probes.length) {
      issues.push({ path: at('min-targets-up'), message: `${u['min-targets-up']} targets needed but only ${u.probes.length} probes` });
    }
  });
  const mw = raw['multi-wan'];
  if (mw && RESERVED_TABLES.has(defaultTable)) issues.push({ path: ['multi-wan', 'default-table'], message: `table ${defaultTable} is reserved by the kernel` });
  if (mw?.['rule-priority'] !== undefined && mw['rule-priority'] + 999 >= 32766) {
    issues.push({ path: ['multi-wan', 'rule-priority'], message: 'the band (rule-priority … +999) must end before the main table rule (32766)' });
  }
  return issues;
}
