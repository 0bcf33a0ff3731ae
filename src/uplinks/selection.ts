/**
 * Which uplinks carry traffic, from their health. Pure.
 * - failover: the healthy uplink with the highest priority (file order breaks ties); uplinks up
 *   for less than `min-up` count only when no stable one is up.
 * - load-balance: every healthy uplink, flows spread by weight.
 * - nothing healthy: keep the last-known-good choice (`healthy: false`) rather than nothing.
 */
import { createHash } from 'node:crypto';
import type { MultiWanMode } from './uplink-model.js';

export interface Candidate {
  name: string;
  priority: number;
  weight: number;
  healthy: boolean;
  stable: boolean;
}

export interface Selection {
  mode: MultiWanMode;
  /** uplinks in use, best first (failover: one) */
  active: string[];
  /** false when nothing is healthy and `active` is the last-known-good choice */
  healthy: boolean;
}

export function select(mode: MultiWanMode, candidates: Candidate[], previous: Selection | null): Selection {
  const healthy = candidates.filter((c) => c.healthy);
  const stable = healthy.filter((c) => c.stable);
  const pool = stable.length > 0 ? stable : healthy;
  if (pool.length === 0) {
    const fallback = previous?.active.length ? previous.active : candidates.length ? [byPriority(candidates)[0].name] : [];
    return { mode, active: fallback, healthy: false };
  }
  const ordered = byPriority(pool);
  return { mode, active: mode === 'failover' ? [ordered[0].name] : ordered.map((c) => c.name), healthy: true };
}

function byPriority(list: Candidate[]): Candidate[] {
  return list.map((c, i) => ({ c, i })).sort((a, b) => b.c.priority - a.c.priority || a.i - b.i).map(({ c }) => c);
}

export function sameSelection(a: Selection | null, b: Selection): boolean {
  return a !== null && a.healthy === b.healthy && a.active.length === b.active.length && a.active.every((n, i) => n === b.active[i]);
}

/**
 * The uplink a flow takes under load-balance: weighted rendezvous hashing, so a flow stays on
 * its uplink while that one is healthy, and only the flows of an uplink that leaves move.
 */
export function pickForFlow(flow: string, active: ReadonlyArray<{ name: string; weight: number }>): string | undefined {
  let best: string | undefined;
  let bestScore = -Infinity;
  for (const u of active) {
    const h = createHash('sha256').update(`${u.name}\0${flow}`).digest().readUIntBE(0, 6) / 2 ** 48;
    const score = -u.weight / Math.log((h * (2 ** 48 - 2) + 1) / 2 ** 48); // h in (0,1)
    if (score > bestScore) {
      bestScore = score;
      best = u.name;
    }
  }
  return best;
}
