/**
 * The queueing service against a recording host port: what it runs on a kernel with only htb
 * (the build machine's), from start to stop, with nothing touched on the real host.
 */
import dnsPacket from 'dns-packet';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseEdgeConfig as parseConfig } from '../app/sections.js';
import { wireKey } from '../dns/name.js';
import { RecordingHost } from '../host/recording-host.js';
import { sectionOf } from '../config/section.js';
import { QUEUEING } from './queueing-section.js';
import { QueueingService } from './queueing-service.js';

const log = pino({ level: 'silent' });
const clock = { now: () => 1_000_000 };

function settings(extra = '') {
  return sectionOf(parseConfig(`
upstreams: [udp://127.0.0.1:53]
uplinks:
  - name: dsl
    interface: wan0
    smart-queueing:
      bandwidth-up: 9mbit
      bandwidth-down: 45mbit
      classes: [{ name: video, domains: [video.example], rate: 3mbit }]${extra}
`, 'q.yaml'), QUEUEING);
}

/** A kernel with htb and ifb but neither cake nor fq_codel; offloads on. */
function htbOnlyHost(): RecordingHost {
  return new RecordingHost()
    .on(/^tc qdisc replace dev edq\d+ root (cake|fq_codel)$/, new Error('Error: Specified qdisc kind is unknown.'))
    .on(/^ethtool -k /, 'Features for wan0:\ngeneric-segmentation-offload: on\ntcp-segmentation-offload: on\ngeneric-receive-offload: on\n')
    .on(/^tc -s -j qdisc show dev wan0$/, JSON.stringify([
      { kind: 'htb', handle: 'ed:', root: true, bytes: 0, packets: 0, drops: 0, overlimits: 7, backlog: 0, qlen: 0 },
      { kind: 'bfifo', handle: 'e30:', parent: 'ed:30', bytes: 100, packets: 1, drops: 2, overlimits: 0, backlog: 1514, qlen: 1 },
    ]))
    .file('/sys/class/net/wan0/statistics/tx_bytes', '1000\n');
}

describe('QueueingService with a recording host', () => {
  it('applies the fallback tree from nothing of its own, turns offloads off, and says why', async () => {
    const host = htbOnlyHost();
    const svc = new QueueingService(settings(), () => null, clock, log, host);
    await svc.start(false);
    const lines = host.lines();
    // the probe on a throwaway ifb, then clearing, then the tree
    expect(lines[0]).toMatch(/^ip link add edq\d+ type ifb$/);
    const clear = lines.indexOf('tc qdisc del dev wan0 root handle ed:');
    expect(clear).toBeGreaterThan(0);
    expect(lines.indexOf('tc qdisc replace dev wan0 root handle ed: htb default 30')).toBeGreaterThan(clear);
    expect(lines).toContain('tc class replace dev wan0 parent ed:1 classid ed:20 htb rate 3000kbit ceil 9000kbit burst 3200b cburst 3200b quantum 1514 prio 1');
    expect(lines).toContain('tc filter add dev wan0 parent ed: protocol ip prio 40 u32 match ip protocol 1 0xff flowid ed:10');
    expect(lines).toContain('tc filter add dev wan0 parent ed: protocol ip prio 1 u32 match u32 0 0 action mirred egress redirect dev ifb4wan0'.replace('wan0 parent ed: protocol ip prio 1', 'wan0 parent ffff: protocol all prio 1'));
    expect(lines).toContain('ethtool -K wan0 gso off tso off gro off');
    const [st] = await svc.status();
    expect(st).toMatchObject({ name: 'dsl', qdisc: 'htb+prio', offloads: 'off', backlog: 1514, drops: 2, overlimits: 7 });
    expect(st.reason).toContain('the kernel has no cake or fq_codel');
    expect(st.tree.up).toContain('video 3000kbit–9000kbit (waits ≤ 20 ms)');
  });

  it('learns a domain class\'s address from an answer before it is released, in one tc batch', async () => {
    const host = htbOnlyHost();
    const svc = new QueueingService(settings(), () => null, clock, log, host);
    await svc.start(false);
    const name = wireKey('cdn.video.example');
    expect(svc.learner!.wants(name)).toBe(true);
    expect(svc.learner!.wants(wireKey('other.example'))).toBe(false);
    const reply = dnsPacket.encode({ type: 'response', id: 1, flags: 0x8180, questions: [{ name: 'cdn.video.example', type: 'A' }],
      answers: [{ name: 'cdn.video.example', type: 'A', ttl: 60, data: '192.0.2.77' }] });
    await svc.learner!.observe(name, reply);
    const batch = host.calls.find((c) => c.cmd === 'tc' && c.args.join(' ') === '-force -batch -')!;
    expect(batch.input).toBe([
      'filter add dev wan0 parent ed: protocol ip prio 2 u32 match ip dst 192.0.2.77/32 flowid ed:20',
      'filter add dev ifb4wan0 parent ed: protocol ip prio 2 u32 match ip src 192.0.2.77/32 flowid ed:20', '',
    ].join('\n'));
    expect(svc.learner!.addresses('dsl', 'video')).toEqual(['192.0.2.77']);
    await svc.stop();
  });

  it('on stop removes only its own and gives back the offloads it turned off', async () => {
    const host = htbOnlyHost();
    const svc = new QueueingService(settings(), () => null, clock, log, host);
    await svc.start(false);
    host.calls.length = 0;
    await svc.stop();
    expect(host.lines()).toEqual([
      'tc qdisc del dev wan0 root handle ed:', 'tc qdisc del dev wan0 handle ffff: ingress', 'ip link del ifb4wan0',
      'ethtool -K wan0 gso on tso on gro on',
    ]);
  });

  it('a tc command that fails leaves nothing half-applied and says so in the status', async () => {
    const host = htbOnlyHost().on(/classid ed:20 htb/, new Error('Error: failed to create class'));
    const svc = new QueueingService(settings(), () => null, clock, log, host);
    await svc.start(false);
    const [st] = await svc.status();
    expect(st.qdisc).toBeNull();
    expect(st.reason).toMatch(/^apply failed: tc class replace dev wan0 .*failed to create class/);
    const lines = host.lines();
    const failedAt = lines.findIndex((l) => l.includes('classid ed:20 htb'));
    expect(lines.slice(failedAt + 1).filter((l) => !l.startsWith('tc -s'))).toEqual(['tc qdisc del dev wan0 root handle ed:', 'tc qdisc del dev wan0 handle ffff: ingress', 'ip link del ifb4wan0']);
    expect(lines).not.toContain('ethtool -K wan0 gso off tso off gro off');
  });
});
