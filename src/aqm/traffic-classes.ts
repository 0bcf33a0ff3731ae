/**
 * Traffic classes of `smart-queueing.classes`: what a class matches (domains, whose addresses
 * edgedns learns from its own answers; source prefixes; DSCP values), its guaranteed rate and
 * ceiling, and the checks a config must pass. First match wins; the rest is best effort.
 */
import type { RawQueueing } from './queueing-section.js';
import type { PathIssue } from '../config/validate.js';
import { normalizeName } from '../dns/name.js';
import { parseRate } from './rate.js';

export interface TrafficClass {
  name: string;
  /** the htb minor number (ed:20 + i) and the u32 filter priority band of this class */
  index: number;
  /** normalized, without a leading "*." */
  domains: string[];
  sources: string[];
  /** DSCP code points, 0–63 */
  dscp: number[];
  /** bits per second */
  rate: number;
  ceil?: number;
}

const DSCP_NAMES: Record<string, number> = {
  ef: 46, va: 44, le: 1, df: 0, be: 0,
  ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`cs${i}`, i * 8])),
  ...Object.fromEntries([1, 2, 3, 4].flatMap((c) => [1, 2, 3].map((d) => [`af${c}${d}`, c * 8 + d * 2]))),
};

export function dscpValue(v: string | number): number | null {
  if (typeof v === 'number') return v >= 0 && v <= 63 ? v : null;
  const n = DSCP_NAMES[v.toLowerCase()];
  return n ?? (/^\d+$/.test(v) && Number(v) <= 63 ? Number(v) : null);
}

type RawClass = NonNullable<RawQueueing['uplinks'][number]['smart-queueing']>['classes'][number];

export function classesFromConfig(raw: RawClass[]): TrafficClass[] {
  return raw.map((c, i) => ({
    name: c.name,
    index: i,
    domains: (c.domains ?? []).map((d) => normalizeName(d.replace(/^\*\./, ''))),
    sources: c.sources ?? [],
    dscp: (c.dscp ?? []).map((d) => dscpValue(d) ?? 0),
    rate: parseRate(c.rate),
    ceil: c.ceil === undefined ? undefined : parseRate(c.ceil),
  }));
}

const DOMAIN = /^(\*\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/;

/** Errors in `uplinks[i].smart-queueing.classes`. */
export function checkClasses(raw: RawQueueing): PathIssue[] {
  const issues: PathIssue[] = [];
  raw.uplinks.forEach((u, i) => {
    const q = u['smart-queueing'];
    if (!q || q.classes.length === 0) return;
    const at = (...rest: Array<string | number>) => ['uplinks', i, 'smart-queueing', 'classes', ...rest];
    const up = q['bandwidth-up'] !== undefined ? parseRate(q['bandwidth-up']) : q.autorate ? parseRate(q.autorate.min) : undefined;
    const names = new Set<string>();
    let sum = 0;
    q.classes.forEach((c, j) => {
      if (names.has(c.name)) issues.push({ path: at(j, 'name'), message: `class "${c.name}" is defined twice` });
      names.add(c.name);
      if (!c.domains?.length && !c.sources?.length && !c.dscp?.length) issues.push({ path: at(j), message: 'a class needs domains, sources or dscp to match' });
      c.domains?.forEach((d, k) => { if (!DOMAIN.test(d)) issues.push({ path: at(j, 'domains', k), message: 'expected a domain name' }); });
      c.dscp?.forEach((d, k) => { if (dscpValue(d) === null) issues.push({ path: at(j, 'dscp', k), message: 'expected a DSCP name (ef, cs0–cs7, af11–af43, va, le) or 0–63' }); });
      const rate = parseRate(c.rate);
      sum += rate;
      if (c.ceil !== undefined && parseRate(c.ceil) < rate) issues.push({ path: at(j, 'ceil'), message: 'ceil is below rate' });
    });
    if (up !== undefined && sum > up * 0.9) {
      issues.push({ path: at(), message: `the classes guarantee ${sum / 1e6} Mbit/s, more than 90% of the ${up / 1e6} Mbit/s shaped: best effort and interactive traffic need the rest` });
    }
    if (q.classes.length > 9) issues.push({ path: at(9), message: 'at most 9 classes per uplink' });
  });
  return issues;
}
