import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/errors.js';
import { loadEdgeConfig as loadConfig, parseEdgeConfig as parseConfig } from '../../app/sections.js';
import { answerAddresses } from '../../dns/answer-addresses.js';
import { wireKey } from '../../dns/name.js';
import { uplinkFamily } from '../route-plan.js';
import { sectionOf } from '../../config/section.js';
import { UPLINKS } from '../uplinks-section.js';
import { DomainLearner } from './domain-learner.js';
import { renderNft } from './nft-render.js';
import { decidePolicies } from './policy-decision.js';
import { policyRules } from './policy-rules.js';

const log = pino({ level: 'silent' });
const YAML = `upstreams: [udp://127.0.0.1:53]
uplinks:
  - { name: wan-a, interface: wan1, source: 10.201.0.2, gateway: 10.201.0.1, table: 101, priority: 100 }
  - { name: wan-b, interface: wan2, source: 10.202.0.2, gateway: 10.202.0.1, table: 102, priority: 50 }
multi-wan:
  mode: failover
  apply-routes: true
  policies:
    - { name: video, match: { domains: [zoom.us, Teams.Microsoft.com.] }, uplinks: [wan-a, wan-b] }
    - { name: kids, match: { source: [10.10.50.7/24] }, uplinks: [wan-b], fallback: default }
    - { name: bank, match: { destination: [198.51.100.0/24, "2001:db8::/32"] }, uplinks: [wan-a], fallback: drop }
`;
const config = parseConfig(YAML, 'p.yaml');
const { multiWan: mw, uplinks } = sectionOf(config, UPLINKS);

async function problems(yaml: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'edgedns-pol-'));
  writeFileSync(join(dir, 'c.yaml'), yaml);
  try {
    const c = await loadConfig(join(dir, 'c.yaml'));
    return c.warnings.map((w) => `warning ${w.line} ${w.path}: ${w.message}`);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.line} ${i.path}: ${i.message}`);
    throw e;
  }
}

describe('policy config', () => {
  it('reads policies with normalized names and prefixes', () => {
    expect(mw.policies.map((p) => [p.name, p.domains, p.source, p.destination, p.fallback, p.graceS])).toEqual([
      ['video', ['zoom.us', 'teams.microsoft.com'], [], [], 'default', 300],
      ['kids', [], ['10.10.50.0/24'], [], 'default', 300],
      ['bank', [], [], ['198.51.100.0/24', '2001:db8::/32'], 'drop', 300],
    ]);
  });

  it('names the policy, key and line of each mistake; overlapping sources are a warning', async () => {
    const base = YAML.split('  policies:')[0];
    expect(await problems(`${base}  policies:
    - { name: a, match: { domains: [ok.example, "bad..name"] }, uplinks: [wan-a, wan-z] }
    - { name: b, match: {}, uplinks: [wan-a] }
    - { name: a, match: { domains: [x.example], destination: [192.0.2.0/24] }, uplinks: [wan-a] }
`)).toEqual([
      '9 multi-wan.policies[0].match.domains[1]: policy "a": "bad..name" is not a domain name',
      '9 multi-wan.policies[0].uplinks[1]: policy "a": no uplink is named "wan-z"',
      '10 multi-wan.policies[1].match: policy "b": match needs domains, source or destination',
      '11 multi-wan.policies[2].name: policy "a": the name is already used by policies[0]',
      '11 multi-wan.policies[2].match.destination: policy "a": match domains or destination prefixes, not both (the domains\' addresses are the destination)',
    ]);
    expect(await problems(`${base}  policies:
    - { name: kids, match: { source: [10.10.0.0/16] }, uplinks: [wan-b] }
    - { name: guests, match: { source: [10.10.50.0/24] }, uplinks: [wan-a] }
`)).toEqual(['warning 10 multi-wan.policies[1].match.source: policy "guests": source 10.10.50.0/24 overlaps policy "kids"; the first match wins']);
    // `edgedns check` prints the warning with its place and still says ok
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-pol-'));
    writeFileSync(join(dir, 'w.yaml'), `${base}  policies:\n    - { name: kids, match: { source: [10.10.0.0/16] }, uplinks: [wan-b] }\n    - { name: guests, match: { source: [10.10.50.0/24] }, uplinks: [wan-a] }\n`);
    const check = spawnSync(process.execPath, [new URL('../../../bin/edgedns.js', import.meta.url).pathname, 'check', '-c', join(dir, 'w.yaml')], { encoding: 'utf8' });
    expect(check.status).toBe(0);
    expect(check.stdout).toContain(`${join(dir, 'w.yaml')}:10:40 multi-wan.policies[1].match.source: warning: policy "guests": source 10.10.50.0/24 overlaps policy "kids"; the first match wins`);
    expect(check.stdout).toContain('ok (1 warning)');
    expect(await problems(YAML.replace('apply-routes: true', 'apply-routes: false'))).toEqual([
      expect.stringMatching(/^9 multi-wan\.policies: policies need multi-wan\.apply-routes: true/),
    ]);
  });
});

describe('policy decisions and rules', () => {
  it('takes the first healthy uplink, else the fallback, and says why', () => {
    expect(decidePolicies(mw.policies, () => true).map((d) => [d.action, d.uplink])).toEqual([['uplink', 'wan-a'], ['uplink', 'wan-b'], ['uplink', 'wan-a']]);
    const aDown = decidePolicies(mw.policies, (n) => n !== 'wan-a');
    expect(aDown.map((d) => [d.action, d.uplink])).toEqual([['uplink', 'wan-b'], ['uplink', 'wan-b'], ['drop', null]]);
    expect(aDown[0].reason).toBe('wan-a down; next healthy in the list');
    const none = decidePolicies(mw.policies, () => false);
    expect(none.map((d) => d.action)).toEqual(['default', 'default', 'drop']);
  });

  it('renders ip rules in the band: fwmarks per uplink, then source/destination rules in policy order', () => {
    const rules = (healthy: (n: string) => boolean) => policyRules(mw.policies, decidePolicies(mw.policies, healthy), uplinks, 10000, uplinkFamily);
    expect(rules(() => true)).toEqual([
      { family: 4, pref: 10001, fwmark: 0xed01, table: 101 },
      { family: 4, pref: 10001, fwmark: 0xed02, table: 102 },
      { family: 4, pref: 10011, from: '10.10.50.0/24', to: undefined, table: 102 },
      { family: 4, pref: 10012, from: undefined, to: '198.51.100.0/24', table: 101 },
      { family: 6, pref: 10012, from: undefined, to: '2001:db8::/32', table: 101 },
    ]);
    const down = rules((n) => n !== 'wan-a' && n !== 'wan-b');
    expect(down.filter((r) => r.pref > 10001)).toEqual([
      { family: 4, pref: 10012, from: undefined, to: '198.51.100.0/24', action: 'prohibit' },
      { family: 6, pref: 10012, from: undefined, to: '2001:db8::/32', action: 'prohibit' },
    ]);
  });

  it('renders nftables: restore marks of existing flows, first match wins, marks follow the decision', () => {
    const names = ['wan-a', 'wan-b'];
    const healthy = renderNft(mw.policies, decidePolicies(mw.policies, () => true), (n) => names.indexOf(n), { sets: ['old_v4'], counters: ['video', 'old'], chains: [] });
    const rules = healthy.split('\n').filter((l) => l.startsWith('add rule inet edgedns policies'));
    expect(rules).toEqual([
      'add rule inet edgedns policies ct state new ip daddr @video_v4 counter name "video" meta mark set 0xed01 ct mark set 0xed01 return',
      'add rule inet edgedns policies ct state new ip6 daddr @video_v6 counter name "video" meta mark set 0xed01 ct mark set 0xed01 return',
      'add rule inet edgedns policies ct state new ip saddr { 10.10.50.0/24 } counter name "kids" return',
      'add rule inet edgedns policies ct state new ip daddr { 198.51.100.0/24 } counter name "bank" return',
      'add rule inet edgedns policies ct state new ip6 daddr { 2001:db8::/32 } counter name "bank" return',
    ]);
    expect(healthy).toContain('add rule inet edgedns prerouting ct mark and 0xff00 == 0xed00 meta mark set ct mark return');
    expect(healthy).toContain('delete set inet edgedns old_v4\ndelete counter inet edgedns old\n');
    expect(healthy).not.toContain('delete counter inet edgedns video');
    const aDown = renderNft(mw.policies, decidePolicies(mw.policies, (n) => n !== 'wan-a'), (n) => names.indexOf(n), { sets: [], counters: [], chains: [] });
    expect(aDown).toContain('@video_v4 counter name "video" meta mark set 0xed02 ct mark set 0xed02 return');
  });
});

function answer(name: string, records: Array<{ type: 'A' | 'AAAA' | 'CNAME'; data: string; ttl: number; name?: string }>): Buffer {
  return dnsPacket.encode({
    type: 'response', id: 1, flags: 0x8180, questions: [{ type: 'A', name, class: 'IN' }],
    answers: records.map((r) => ({ name: r.name ?? name, type: r.type, ttl: r.ttl, class: 'IN' as const, data: r.data })),
  });
}

describe('answer addresses', () => {
  it('reads A and AAAA with TTLs through CNAMEs and name compression', () => {
    const buf = answer('zoom.us', [
      { type: 'CNAME', data: 'edge.zoom.us', ttl: 300 },
      { type: 'A', name: 'edge.zoom.us', data: '192.0.2.7', ttl: 60 },
      { type: 'AAAA', name: 'edge.zoom.us', data: '2001:db8:0:0::7', ttl: 30 },
    ]);
    expect(answerAddresses(buf)).toEqual([{ family: 4, address: '192.0.2.7', ttl: 60 }, { family: 6, address: '2001:db8::7', ttl: 30 }]);
    expect(answerAddresses(buf.subarray(0, buf.length - 5))).toEqual([{ family: 4, address: '192.0.2.7', ttl: 60 }]);
    expect(answerAddresses(Buffer.alloc(5))).toEqual([]);
  });
});

describe('domain learner (nft replaced by a recorder: batching and timeouts; real nft in test/multiwan-policies.test.ts)', () => {
  function setup() {
    let now = 1_000_000;
    const scripts: string[] = [];
    const learner = new DomainLearner(mw.policies, async (s) => { scripts.push(s); }, { now: () => now }, log);
    return { learner, scripts, tick: (ms: number) => { now += ms; } };
  }

  it('watches the domains and everything under them, nothing else', () => {
    const { learner } = setup();
    expect(learner.wants(wireKey('zoom.us'))).toBe(true);
    expect(learner.wants(wireKey('eu01.web.zoom.us'))).toBe(true);
    expect(learner.wants(wireKey('teams.microsoft.com'))).toBe(true);
    expect(learner.wants(wireKey('microsoft.com'))).toBe(false);
    expect(learner.wants(wireKey('notzoom.us'))).toBe(false);
  });

  it('holds the answer for new addresses until nft has them, with timeout TTL + grace, in one batch', async () => {
    const { learner, scripts, tick } = setup();
    const w1 = learner.observe(wireKey('zoom.us'), answer('zoom.us', [{ type: 'A', data: '192.0.2.7', ttl: 60 }]));
    const w2 = learner.observe(wireKey('a.zoom.us'), answer('a.zoom.us', [{ type: 'A', data: '192.0.2.8', ttl: 10 }, { type: 'AAAA', data: '2001:db8::8', ttl: 10 }]));
    expect(w1).toBeInstanceOf(Promise);
    expect(scripts).toEqual([]);
    await Promise.all([w1, w2]);
    expect(scripts).toEqual([[
      'add element inet edgedns video_v4 { 192.0.2.7 timeout 360s }',
      'add element inet edgedns video_v4 { 192.0.2.8 timeout 310s }',
      'add element inet edgedns video_v6 { 2001:db8::8 timeout 310s }', ''].join('\n')]);
    // held: no wait, no nft
    expect(learner.observe(wireKey('zoom.us'), answer('zoom.us', [{ type: 'A', data: '192.0.2.7', ttl: 60 }]))).toBeUndefined();
    expect(scripts).toHaveLength(1);
    // half the grace used: refreshed in the background (delete + add), the answer does not wait
    tick(200_000);
    expect(learner.observe(wireKey('zoom.us'), answer('zoom.us', [{ type: 'A', data: '192.0.2.7', ttl: 60 }]))).toBeUndefined();
    await new Promise((r) => setImmediate(r));
    expect(scripts[1]).toBe('delete element inet edgedns video_v4 { 192.0.2.7 }\nadd element inet edgedns video_v4 { 192.0.2.7 timeout 360s }\n');
    expect(learner.addresses('video').map((a) => a.address).sort()).toEqual(['192.0.2.7', '192.0.2.8', '2001:db8::8']);
    tick(160_001); // 192.0.2.8 and 2001:db8::8 expired (310 s after the first answer)
    expect(learner.addresses('video').map((a) => a.address)).toEqual(['192.0.2.7']);
  });

  it('retries a failed refresh as plain adds, and never holds an answer on a failing nft', async () => {
    let fail = 0;
    const scripts: string[] = [];
    const learner = new DomainLearner(mw.policies, async (s) => { scripts.push(s); if (fail-- > 0) throw new Error('No such file or directory'); }, { now: () => 0 }, log);
    fail = 1;
    await learner.observe(wireKey('zoom.us'), answer('zoom.us', [{ type: 'A', data: '192.0.2.9', ttl: 5 }]));
    expect(learner.stats.failures).toBe(1);
  });
});
