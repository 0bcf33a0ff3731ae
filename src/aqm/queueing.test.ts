import { describe, expect, it } from 'vitest';
import { parseEdgeConfig as parseConfig } from '../app/sections.js';
import { AutorateController } from './autorate.js';
import { algorithmWarning, chooseKind, type Capabilities } from './capabilities.js';
import { enabledOffloads } from './offloads.js';
import { parseClassStats } from './tc-runner.js';
import { sectionOf } from '../config/section.js';
import { QUEUEING } from './queueing-section.js';
import { parseRate, tcRate } from './rate.js';
import {
  classPlan, delayBoundMs, describeTree, fifoLimitBytes, formatCommand, learnedFilter, offloadsOff, planQueueing, rateCommands, removeCommands, shaperCommands,
} from './tc-render.js';

const config = parseConfig(`
upstreams: [udp://127.0.0.1:53]
uplinks:
  - name: fibre
    interface: wan1
    smart-queueing: { bandwidth-up: 20mbit, bandwidth-down: 100mbit, overhead: 18, diffserv: diffserv3 }
  - name: lte
    interface: wwan0
    smart-queueing: { autorate: { min: 5mbit, base: 20mbit, max: 40mbit }, ingress: false, algorithm: fq-codel, ecn: false }
  - name: fast
    interface: wan3
    smart-queueing: { algorithm: cake }
  - name: off
    interface: wan4
    smart-queueing: { bandwidth-up: 10mbit, enabled: false }
`, 'q.yaml');
const [fibre, lte] = sectionOf(config, QUEUEING);
const caps = (cake: boolean, fqCodel: boolean): Capabilities => ({ cake, fqCodel, htb: true, ifb: true, error: null });

describe('smart queueing config', () => {
  it('is on for uplinks with a bandwidth (or autorate), off without one or when disabled', () => {
    expect(sectionOf(config, QUEUEING).map((s) => s.uplink)).toEqual(['fibre', 'lte']);
    expect(fibre).toMatchObject({ up: 20e6, down: 100e6, ingress: true, ifb: 'ifb4wan1', targetMs: 5, intervalMs: 100, ecn: true, overhead: 18, algorithm: 'auto' });
    expect(lte).toMatchObject({ up: 20e6, down: undefined, ingress: false, diffserv: 'besteffort', autorate: { min: 5e6, base: 20e6, max: 40e6, thresholdMs: 15 } });
    expect(parseRate('1.5gbit')).toBe(1.5e9);
    expect(tcRate(90e6)).toBe('90000kbit');
  });

  it('falls back cake → htb + fq_codel → htb + prio, and says why', () => {
    expect(chooseKind('auto', caps(true, true))).toEqual({ kind: 'cake', reason: 'cake: the best this kernel has' });
    expect(chooseKind('auto', caps(false, true)).kind).toBe('htb+fq_codel');
    expect(chooseKind('cake', caps(false, false))).toEqual({ kind: 'htb+prio', reason: expect.stringContaining('the kernel has no cake or fq_codel') });
    expect(chooseKind('fq-codel', caps(true, true)).kind).toBe('htb+fq_codel');
  });
});

describe('tc rendering', () => {
  it('cake: bandwidth, diffserv, nat, overhead, rtt; ingress through an ifb', () => {
    expect(planQueueing(fibre, 'cake').map(formatCommand)).toEqual([
      'tc qdisc replace dev wan1 root handle ed: cake bandwidth 20000kbit diffserv3 nat overhead 18 rtt 100ms',
      'ip link add ifb4wan1 type ifb',
      'ip link set ifb4wan1 up',
      'tc qdisc add dev wan1 handle ffff: ingress',
      'tc filter add dev wan1 parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ifb4wan1',
      'tc qdisc replace dev ifb4wan1 root handle ed: cake bandwidth 100000kbit diffserv3 nat overhead 18 rtt 100ms ingress',
    ]);
  });

  it('htb + fq_codel: the link, best effort under it, fq_codel leaves', () => {
    expect(planQueueing(lte, 'htb+fq_codel').map(formatCommand)).toEqual([
      'tc qdisc replace dev wwan0 root handle ed: htb default 30',
      'tc class replace dev wwan0 parent ed: classid ed:1 htb rate 20000kbit ceil 20000kbit burst 5000b cburst 5000b quantum 2500',
      'tc class replace dev wwan0 parent ed:1 classid ed:30 htb rate 20000kbit ceil 20000kbit burst 5000b cburst 5000b quantum 2500 prio 0',
      'tc qdisc replace dev wwan0 parent ed:30 handle e30: fq_codel target 5ms interval 100ms noecn',
    ]);
  });

  it('htb + prio, the fallback: interactive served first, FIFOs sized from rate and delay, and the bound it states', () => {
    const cmds = planQueueing(fibre, 'htb+prio').map(formatCommand);
    expect(cmds.slice(0, 6)).toEqual([
      'tc qdisc replace dev wan1 root handle ed: stab overhead 18 linklayer ethernet htb default 30',
      'tc class replace dev wan1 parent ed: classid ed:1 htb rate 20000kbit ceil 20000kbit burst 5000b cburst 5000b quantum 2500',
      'tc class replace dev wan1 parent ed:1 classid ed:10 htb rate 2000kbit ceil 20000kbit burst 3200b cburst 5000b quantum 1514 prio 0',
      'tc qdisc replace dev wan1 parent ed:10 handle e10: bfifo limit 25000',
      'tc class replace dev wan1 parent ed:1 classid ed:30 htb rate 18000kbit ceil 20000kbit burst 4500b cburst 5000b quantum 2250 prio 1',
      'tc qdisc replace dev wan1 parent ed:30 handle e30: bfifo limit 50000',
    ]);
    expect(cmds).toContain('tc filter add dev wan1 parent ed: protocol ip prio 40 u32 match ip protocol 1 0xff flowid ed:10');
    expect(cmds).toContain('tc filter add dev wan1 parent ed: protocol ip prio 40 u32 match ip dport 53 0xffff flowid ed:10');
    expect(cmds).toContain('tc filter add dev ifb4wan1 parent ed: protocol ip prio 40 u32 match ip sport 53 0xffff flowid ed:10');
    // DNS over TLS too: the gateway's own upstream queries, each too big to pass as a small packet
    expect(cmds).toContain('tc filter add dev wan1 parent ed: protocol ip prio 40 u32 match ip dport 853 0xffff flowid ed:10');
    expect(cmds).toContain('tc filter add dev wan1 parent ed: protocol ipv6 prio 140 u32 match ip6 dport 853 0xffff flowid ed:10');
    expect(cmds).toContain('tc filter add dev ifb4wan1 parent ed: protocol ip prio 40 u32 match ip sport 853 0xffff flowid ed:10');
    expect(cmds).toContain('tc filter add dev wan1 parent ed: protocol ip prio 40 u32 match ip dsfield 0xb8 0xfc flowid ed:10');
    expect(cmds).toContain('tc filter add dev wan1 parent ed: protocol ip prio 41 u32 match u16 0x0000 0xff80 at 2 flowid ed:10');
    // the delay bound at every rate: 20 ms of bulk, never less than four full-size packets
    expect(fifoLimitBytes(10e6)).toBe(25_000);
    expect(fifoLimitBytes(1e6)).toBe(4 * 1514);
    expect(fifoLimitBytes(1e9)).toBe(2_500_000);
    expect(delayBoundMs(5e6)).toBe(20);
    expect(delayBoundMs(1e6)).toBe(48.4);
    expect(describeTree(10e6, 'htb+prio', [])).toBe('interactive 1000kbit–10000kbit (waits ≤ 10 ms); best-effort 9000kbit–10000kbit (waits ≤ 20 ms)');
  });

  it('traffic classes: rate and ceil in htb, matched by DSCP and source, domain addresses as they are learned; cake puts them in a tin', () => {
    const c = parseConfig(`
upstreams: [udp://127.0.0.1:53]
uplinks:
  - name: dsl
    interface: wan0
    smart-queueing:
      bandwidth-up: 10mbit
      bandwidth-down: 50mbit
      classes:
        - { name: calls, domains: [zoom.us, "*.teams.microsoft.com"], sources: [10.0.0.50/32, "fd00::50/128"], dscp: [ef, 34], rate: 3mbit, ceil: 8mbit }
        - { name: backup, sources: [10.0.0.60/32], rate: 1mbit }
`, 'q.yaml');
    const [s] = sectionOf(c, QUEUEING);
    expect(s.classes).toEqual([
      { name: 'calls', index: 0, domains: ['zoom.us', 'teams.microsoft.com'], sources: ['10.0.0.50/32', 'fd00::50/128'], dscp: [46, 34], rate: 3e6, ceil: 8e6 },
      { name: 'backup', index: 1, domains: [], sources: ['10.0.0.60/32'], dscp: [], rate: 1e6, ceil: undefined },
    ]);
    expect(classPlan(10e6, 'htb+prio', s.classes).map((p) => [p.name, p.classid, p.rate, p.ceil])).toEqual([
      ['interactive', 'ed:10', 1e6, 10e6], ['calls', 'ed:20', 3e6, 8e6], ['backup', 'ed:21', 1e6, 10e6], ['best-effort', 'ed:30', 5e6, 10e6],
    ]);
    const up = shaperCommands('wan0', 10e6, 'htb+prio', s, false).map(formatCommand);
    expect(up).toContain('tc class replace dev wan0 parent ed:1 classid ed:20 htb rate 3000kbit ceil 8000kbit burst 3200b cburst 3200b quantum 1514 prio 1');
    expect(up).toContain('tc filter add dev wan0 parent ed: protocol ip prio 1 u32 match ip dsfield 0xb8 0xfc flowid ed:20');
    expect(up).toContain('tc filter add dev wan0 parent ed: protocol ipv6 prio 101 u32 match ip6 priority 0x88 0xfc flowid ed:20');
    expect(up).toContain('tc filter add dev wan0 parent ed: protocol ip prio 1 u32 match ip src 10.0.0.50/32 flowid ed:20');
    expect(up).toContain('tc filter add dev wan0 parent ed: protocol ip prio 3 u32 match ip src 10.0.0.60/32 flowid ed:21');
    const down = shaperCommands('ifb4wan0', 50e6, 'htb+prio', s, true).map(formatCommand);
    expect(down).toContain('tc filter add dev ifb4wan0 parent ed: protocol ip prio 1 u32 match ip dst 10.0.0.50/32 flowid ed:20');
    expect(formatCommand(learnedFilter('wan0', 'htb+prio', s.classes[0], '192.0.2.7', false))).toBe('tc filter add dev wan0 parent ed: protocol ip prio 2 u32 match ip dst 192.0.2.7/32 flowid ed:20');
    expect(formatCommand(learnedFilter('ifb4wan0', 'htb+prio', s.classes[0], '2001:db8::7', true))).toBe('tc filter add dev ifb4wan0 parent ed: protocol ipv6 prio 102 u32 match ip6 src 2001:db8::7/128 flowid ed:20');
    const cake = shaperCommands('wan0', 10e6, 'cake', s, false).map(formatCommand);
    expect(cake[0]).toBe('tc qdisc replace dev wan0 root handle ed: cake bandwidth 10000kbit diffserv4 nat rtt 100ms');
    expect(cake).toContain('tc filter add dev wan0 parent ed: protocol ip prio 1 u32 match ip src 10.0.0.50/32 flowid ed:3');
  });

  it('refuses classes that match nothing, guarantee more than the link, or name a bad DSCP', () => {
    const bad = () => parseConfig(`
upstreams: [udp://127.0.0.1:53]
uplinks:
  - name: dsl
    interface: wan0
    smart-queueing:
      bandwidth-up: 10mbit
      classes:
        - { name: a, rate: 5mbit, ceil: 4mbit }
        - { name: b, dscp: [xx], rate: 5mbit }
`, 'q.yaml');
    expect(bad).toThrow(/classes\[0\]: a class needs domains, sources or dscp to match/);
    expect(bad).toThrow(/classes\[0\]\.ceil: ceil is below rate/);
    expect(bad).toThrow(/classes\[1\]\.dscp\[0\]: expected a DSCP name/);
    expect(bad).toThrow(/guarantee 10 Mbit\/s, more than 90% of the 10 Mbit\/s shaped/);
  });

  it('an explicit algorithm the kernel lacks is a warning with its place, and the fallback is used', () => {
    const text = 'upstreams: [udp://127.0.0.1:53]\nuplinks:\n  - name: a\n    interface: wan0\n    smart-queueing: { bandwidth-up: 10mbit, algorithm: cake }\n';
    const c = parseConfig(text, 'q.yaml', { kernel: { cake: false, fqCodel: false } });
    expect(c.warnings.map((w) => `${w.line}:${w.col} ${w.path}: ${w.message}`)).toEqual([
      '5:56 uplinks[0].smart-queueing.algorithm: this kernel has no cake: htb with an interactive class and short FIFOs is used instead',
    ]);
    expect(parseConfig(text, 'q.yaml', { kernel: { cake: true, fqCodel: false } }).warnings).toEqual([]);
    expect(algorithmWarning('cake', caps(false, false))).toContain('htb+prio is used instead');
  });

  it('changes rates in place for autorate, and removes only its own', () => {
    expect(rateCommands('wwan0', 18e6, 'htb+fq_codel', lte).map(formatCommand)).toEqual([
      'tc class change dev wwan0 parent ed: classid ed:1 htb rate 18000kbit ceil 18000kbit burst 4500b cburst 4500b quantum 2250',
      'tc class change dev wwan0 parent ed:1 classid ed:30 htb rate 18000kbit ceil 18000kbit burst 4500b cburst 4500b quantum 2250 prio 0',
    ]);
    expect(rateCommands('wan1', 18e6, 'cake', fibre).map(formatCommand)).toEqual(['tc qdisc change dev wan1 root handle ed: cake bandwidth 18000kbit']);
    expect(rateCommands('wan1', 18e6, 'htb+prio', fibre).map(formatCommand)).toContain('tc qdisc change dev wan1 parent ed:30 handle e30: bfifo limit 45000');
    expect(removeCommands(fibre).map(formatCommand)).toEqual(['tc qdisc del dev wan1 root handle ed:', 'tc qdisc del dev wan1 handle ffff: ingress', 'ip link del ifb4wan1']);
    expect(removeCommands(lte).map(formatCommand)).toEqual(['tc qdisc del dev wwan0 root handle ed:']);
  });

  it('turns offloads off from what ethtool says is on and changeable', () => {
    const k = 'Features for wan0:\ntcp-segmentation-offload: on\n\ttx-tcp-segmentation: on\ngeneric-segmentation-offload: on\ngeneric-receive-offload: off\n';
    expect(enabledOffloads(k)).toEqual(['gso', 'tso']);
    expect(enabledOffloads('generic-segmentation-offload: on [fixed]\n')).toEqual([]);
    expect(offloadsOff(100e6)).toBe(true);
    expect(offloadsOff(1e9)).toBe(false);
  });

  it('reads htb class counters from tc -s class show', () => {
    const text = 'class htb ed:30 parent ed:1 prio 1 rate 9Mbit ceil 10Mbit burst 1598b cburst 1600b \n Sent 1234 bytes 7 pkt (dropped 2, overlimits 5 requeues 0) \n backlog 0b 0p requeues 0\n';
    expect(parseClassStats(text)).toEqual([{ classid: 'ed:30', bytes: 1234, packets: 7, drops: 2, overlimits: 5 }]);
  });
});

describe('autorate (clock-driven)', () => {
  const make = () => new AutorateController({ min: 5e6, base: 20e6, max: 40e6 });

  it('cuts by 0.9 when the RTT rises 15 ms over baseline under load, deeper while it keeps growing', () => {
    const a = make();
    a.step(20, 0.1, 0); // baseline 20 ms
    expect(a.step(40, 0.9, 100)).toMatchObject({ rate: 18e6, changed: true });
    expect(a.step(42, 0.9, 200).changed).toBe(false); // +2 ms: noise, or the queue still draining
    expect(a.step(50, 0.9, 300).rate).toBe(Math.round(18e6 * 0.8)); // +10 ms since the cut: still growing
    expect(a.step(60, 0.9, 400).rate).toBe(Math.round(18e6 * 0.8 * 0.7));
    for (let t = 500; t < 2000; t += 100) a.step(60 + t / 10, 1, t);
    expect(a.rate).toBe(5e6); // never below min
  });

  it('waits while the queue a cut left behind drains, and cuts deeper if the RTT stays high a hold period', () => {
    const a = make();
    a.step(20, 0.1, 0);
    expect(a.step(60, 0.9, 100).rate).toBe(18e6);
    expect(a.step(50, 0.9, 200)).toMatchObject({ rate: 18e6, changed: false, reason: 'queue draining after a cut' });
    expect(a.step(45, 0.9, 600).changed).toBe(false);
    expect(a.step(45, 0.9, 1100)).toMatchObject({ rate: Math.round(18e6 * 0.8), changed: true });
  });

  it('does not count the delay of its own queue as bloat (probes cross it too)', () => {
    const a = make();
    a.step(20, 0.1, 0);
    expect(a.step(38, 0.6, 100, 14)).toMatchObject({ rate: 20e6, changed: false }); // 18 ms more, 14 of them ours
    expect(a.step(38, 0.6, 200, 0)).toMatchObject({ rate: 18e6, changed: true });
  });

  it('does not cut for a high RTT on an idle link (the delay is not our queue)', () => {
    const a = make();
    a.step(20, 0.1, 0);
    expect(a.step(60, 0.1, 100)).toMatchObject({ rate: 20e6, changed: false });
  });

  it('raises slowly (≤ ×1.04 per step) when loaded (≥ 75%) and calm, not right after a cut, never above max', () => {
    const a = make();
    a.step(20, 0.1, 0);
    a.step(40, 0.9, 100); // cut to 18 Mbit/s
    expect(a.step(21, 0.95, 200).changed).toBe(false); // hold after a cut
    expect(a.step(21, 0.95, 1200)).toMatchObject({ rate: Math.round(18e6 * 1.04), changed: true });
    for (let t = 1300; t < 60_000; t += 100) a.step(21, 0.95, t);
    expect(a.rate).toBe(40e6);
  });

  it('takes one step per 100 ms, judging by the worst RTT seen in between', () => {
    const a = make();
    a.step(20, 0.1, 0);
    expect(a.step(50, 0.9, 30).changed).toBe(false);
    expect(a.step(21, 0.9, 100)).toMatchObject({ rate: 18e6, changed: true });
  });
});
