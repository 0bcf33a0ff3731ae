import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { AutorateController } from './autorate.js';
import { chooseKind, type Capabilities } from './capabilities.js';
import { queueingFromConfig } from './queueing-model.js';
import { parseRate, tcRate } from './rate.js';
import { fifoLimitBytes, formatCommand, planQueueing, rateCommands, removeCommands } from './tc-render.js';

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
const [fibre, lte] = queueingFromConfig(config.raw);
const caps = (cake: boolean, fqCodel: boolean): Capabilities => ({ cake, fqCodel, htb: true, ifb: true, error: null });

describe('smart queueing config', () => {
  it('is on for uplinks with a bandwidth (or autorate), off without one or when disabled', () => {
    expect(queueingFromConfig(config.raw).map((s) => s.uplink)).toEqual(['fibre', 'lte']);
    expect(fibre).toMatchObject({ up: 20e6, down: 100e6, ingress: true, ifb: 'ifb4wan1', targetMs: 5, intervalMs: 100, ecn: true, overhead: 18, algorithm: 'auto' });
    expect(lte).toMatchObject({ up: 20e6, down: undefined, ingress: false, diffserv: 'besteffort', autorate: { min: 5e6, base: 20e6, max: 40e6, thresholdMs: 15 } });
    expect(parseRate('1.5gbit')).toBe(1.5e9);
    expect(tcRate(90e6)).toBe('90000kbit');
  });

  it('falls back cake → htb + fq_codel → htb + byte FIFO, and says why', () => {
    expect(chooseKind('auto', caps(true, true))).toEqual({ kind: 'cake', reason: 'cake: the best this kernel has' });
    expect(chooseKind('auto', caps(false, true)).kind).toBe('htb+fq_codel');
    expect(chooseKind('cake', caps(false, false))).toEqual({ kind: 'htb+bfifo', reason: expect.stringContaining('the kernel has no cake or fq_codel') });
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

  it('htb + fq_codel with the link-layer overhead, and htb + a byte FIFO of ~5 ms', () => {
    expect(planQueueing(lte, 'htb+fq_codel').map(formatCommand)).toEqual([
      'tc qdisc replace dev wwan0 root handle ed: htb default 1',
      'tc class replace dev wwan0 parent ed: classid ed:1 htb rate 20000kbit ceil 20000kbit burst 5000b cburst 5000b',
      'tc qdisc replace dev wwan0 parent ed:1 handle ed1: fq_codel target 5ms interval 100ms noecn',
    ]);
    expect(planQueueing(fibre, 'htb+bfifo').map(formatCommand).slice(0, 3)).toEqual([
      'tc qdisc replace dev wan1 root handle ed: stab overhead 18 linklayer ethernet htb default 1',
      'tc class replace dev wan1 parent ed: classid ed:1 htb rate 20000kbit ceil 20000kbit burst 5000b cburst 5000b',
      'tc qdisc replace dev wan1 parent ed:1 handle ed1: bfifo limit 131072',
    ]);
    expect(fifoLimitBytes(1e9)).toBe(625_000); // 5 ms at 1 Gbit/s
  });

  it('changes rates in place for autorate, and removes only its own', () => {
    expect(rateCommands('wwan0', 18e6, 'htb+fq_codel').map(formatCommand)).toEqual(['tc class change dev wwan0 parent ed: classid ed:1 htb rate 18000kbit ceil 18000kbit burst 4500b cburst 4500b']);
    expect(rateCommands('wan1', 18e6, 'cake').map(formatCommand)).toEqual(['tc qdisc change dev wan1 root handle ed: cake bandwidth 18000kbit']);
    expect(removeCommands(fibre).map(formatCommand)).toEqual(['tc qdisc del dev wan1 root handle ed:', 'tc qdisc del dev wan1 handle ffff: ingress', 'ip link del ifb4wan1']);
    expect(removeCommands(lte).map(formatCommand)).toEqual(['tc qdisc del dev wwan0 root handle ed:']);
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
