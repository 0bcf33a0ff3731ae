/**
 * The policy engine against a recording host port and a monitor that reports what the test
 * says: the nft scripts it runs as decisions change, its status, and what stop removes.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseEdgeConfig as parseConfig } from '../../app/sections.js';
import { RecordingHost } from '../../host/recording-host.js';
import { sectionOf } from '../../config/section.js';
import { UPLINKS } from '../uplinks-section.js';
import type { PolicyDecision } from './policy-decision.js';
import { PolicyEngine, type PolicyUplinks } from './policy-engine.js';

const log = pino({ level: 'silent' });

function fakeMonitor(decisions: PolicyDecision[]) {
  const raw = parseConfig(`
upstreams: [udp://127.0.0.1:53]
uplinks:
  - { name: wan-a, interface: wan1, gateway: 10.201.0.1, source: 10.201.0.2 }
  - { name: wan-b, interface: wan2, gateway: 10.202.0.1, source: 10.202.0.2 }
multi-wan:
  apply-routes: true
  policies:
    - { name: video, match: { domains: [video.example] }, uplinks: [wan-b] }
`, 'p.yaml');
  const listeners: Array<() => void> = [];
  const m = {
    multiWan: sectionOf(raw, UPLINKS).multiWan,
    uplinks: sectionOf(raw, UPLINKS).uplinks,
    routing: { enabled: true, reason: null, appliedAt: null },
    decisions,
    onChange: (cb: () => void) => { listeners.push(cb); return () => undefined; },
    onTransitionEvent: () => () => undefined,
    policyDecisions() { return this.decisions; },
    fire: () => listeners.forEach((l) => l()),
  };
  return m;
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('PolicyEngine with a recording host', () => {
  it('writes the nft table for its decisions, and again when they move', async () => {
    const host = new RecordingHost().on(/^nft -j list table inet edgedns$/, new Error('Error: No such file or directory'));
    const m = fakeMonitor([{ policy: 'video', action: 'uplink', uplink: 'wan-b', reason: 'wan-b is up' }]);
    const engine = new PolicyEngine(m as unknown as PolicyUplinks, { now: () => 0 }, log, host);
    engine.start();
    await settle();
    const scripts = host.calls.filter((c) => c.cmd === 'nft' && c.args.join(' ') === '-f -').map((c) => c.input!);
    expect(scripts).toHaveLength(1);
    expect(scripts[0]).toMatch(/meta mark set 0xed02 ct mark set 0xed02/); // wan-b is uplink 2
    m.decisions = [{ policy: 'video', action: 'uplink', uplink: 'wan-a', reason: 'wan-b is down' }];
    m.fire();
    await settle();
    const again = host.calls.filter((c) => c.cmd === 'nft' && c.args.join(' ') === '-f -').map((c) => c.input!);
    expect(again).toHaveLength(2);
    expect(again[1]).toMatch(/meta mark set 0xed01 ct mark set 0xed01/);
    const st = await engine.status();
    expect(st.policies[0]).toMatchObject({ name: 'video', action: 'uplink', uplink: 'wan-a', moves: 1, hits: null });
    expect(st.error).toBeNull();
  });

  it('reads hits from our table\'s counters, and on stop removes only its own chains, sets and counters', async () => {
    let removed = false;
    const host = new RecordingHost()
      .on(/^nft -f -$/, (c) => { if (c.input?.startsWith('delete chain')) removed = true; return ''; })
      .on(/^nft -j list table inet edgedns$/, () => JSON.stringify({
        nftables: removed
          ? [{ table: { name: 'edgedns' } }, ...(nat ? [{ chain: { name: 'nat_postrouting', table: 'edgedns' } }] : [])]
          : [{ table: { name: 'edgedns' } }, { chain: { name: 'prerouting', table: 'edgedns' } }, { chain: { name: 'policies', table: 'edgedns' } },
            { counter: { name: 'video', table: 'edgedns', packets: 42, bytes: 4200 } }, { set: { name: 'video_v4', table: 'edgedns' } }],
      }));
    let nat = false;
    for (const withNat of [false, true]) {
      nat = withNat;
      removed = false;
      const engine = new PolicyEngine(fakeMonitor([{ policy: 'video', action: 'uplink', uplink: 'wan-b', reason: 'up' }]) as unknown as PolicyUplinks,
        { now: () => 0 }, log, host);
      engine.start();
      await settle();
      expect((await engine.status()).policies[0].hits).toBe(42);
      host.calls.length = 0;
      await engine.stop(true);
      const scripts = host.lines(/^nft -f/);
      expect(scripts[0]).toBe('nft -f -\ndelete chain inet edgedns prerouting\ndelete chain inet edgedns policies\ndelete set inet edgedns video_v4\ndelete counter inet edgedns video\n');
      // the table goes only when nothing else (the NAT chain) is left in it
      expect(scripts.slice(1)).toEqual(withNat ? [] : ['nft -f -\ndelete table inet edgedns\n']);
    }
  });

  it('an nft failure is kept as the status error, and the engine keeps going', async () => {
    const host = new RecordingHost()
      .on(/^nft -j list table inet edgedns$/, new Error('Error: No such file or directory'))
      .on(/^nft -f -$/, new Error('Error: Could not process rule: Operation not permitted'));
    const engine = new PolicyEngine(fakeMonitor([{ policy: 'video', action: 'drop', uplink: null, reason: 'no uplink' }]) as unknown as PolicyUplinks,
      { now: () => 0 }, log, host);
    engine.start();
    await settle();
    expect((await engine.status()).error).toMatch(/Operation not permitted/);
  });
});
