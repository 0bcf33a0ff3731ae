import { describe, expect, it } from 'vitest';
import { pickForFlow, select, type Candidate } from './selection.js';

const c = (name: string, priority: number, healthy = true, stable = true, weight = 1): Candidate => ({ name, priority, weight, healthy, stable });

describe('select', () => {
  it('failover picks the healthy uplink with the highest priority', () => {
    expect(select('failover', [c('wan-a', 100), c('wan-b', 50)], null)).toEqual({ mode: 'failover', active: ['wan-a'], healthy: true });
    expect(select('failover', [c('wan-a', 100, false), c('wan-b', 50)], null).active).toEqual(['wan-b']);
  });

  it('file order breaks a priority tie', () => {
    expect(select('failover', [c('wan-b', 50), c('wan-a', 50)], null).active).toEqual(['wan-b']);
  });

  it('prefers stable uplinks: one just back is used only when no stable one is up', () => {
    expect(select('failover', [c('wan-a', 100, true, false), c('wan-b', 50)], null).active).toEqual(['wan-b']);
    expect(select('failover', [c('wan-a', 100, true, false), c('wan-b', 50, false)], null).active).toEqual(['wan-a']);
  });

  it('with nothing healthy keeps the last-known-good uplink', () => {
    const before = select('failover', [c('wan-a', 100, false), c('wan-b', 50)], null);
    const after = select('failover', [c('wan-a', 100, false), c('wan-b', 50, false)], before);
    expect(after).toEqual({ mode: 'failover', active: ['wan-b'], healthy: false });
  });

  it('load-balance uses every healthy uplink', () => {
    expect(select('load-balance', [c('wan-a', 100), c('wan-b', 50), c('wan-c', 10, false)], null).active).toEqual(['wan-a', 'wan-b']);
  });
});

describe('pickForFlow (weighted rendezvous hashing)', () => {
  const flows = Array.from({ length: 6000 }, (_, i) => `udp://198.51.100.${i % 250}:${1000 + i}`);

  it('spreads flows by weight', () => {
    const counts = { a: 0, b: 0 };
    for (const f of flows) counts[pickForFlow(f, [{ name: 'a', weight: 1 }, { name: 'b', weight: 3 }]) as 'a' | 'b']++;
    expect(counts.b / flows.length).toBeGreaterThan(0.7);
    expect(counts.b / flows.length).toBeLessThan(0.8);
  });

  it('is stable: the same flow always lands on the same uplink, and only a leaving uplink\'s flows move', () => {
    const three = [{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }, { name: 'c', weight: 1 }];
    const before = flows.map((f) => pickForFlow(f, three));
    expect(flows.map((f) => pickForFlow(f, three))).toEqual(before);
    const after = flows.map((f) => pickForFlow(f, three.filter((u) => u.name !== 'c')));
    flows.forEach((_, i) => { if (before[i] !== 'c') expect(after[i]).toBe(before[i]); });
  });
});
