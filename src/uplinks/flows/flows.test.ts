/**
 * NAT rendering, conntrack parsing, and the flow keeper against a recording host port and a
 * monitor that fires what the test says: NAT in and out, the L4 multipath hash, flushes of the
 * failed uplink's flows only (after the new routes), sessions per uplink, and an HA backup
 * publishing nothing. The real kernel side is test/gateway-flows.test.ts.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseEdgeConfig } from '../../app/sections.js';
import { sectionOf } from '../../config/section.js';
import { RecordingHost } from '../../host/recording-host.js';
import type { Transition } from '../health-machine.js';
import { UPLINKS } from '../uplinks-section.js';
import { deleteFlows, parseFlow } from './conntrack.js';
import { FlowKeeper, type FlowUplinks } from './flow-keeper.js';
import { renderNat } from './nat-render.js';

const log = pino({ level: 'silent' });
const settle = () => new Promise((r) => setTimeout(r, 20));

function monitor(extra = '') {
  const c = parseEdgeConfig(`
upstreams: [udp://127.0.0.1:53]
uplinks:
  - { name: wan-a, interface: wan1, gateway: 10.201.0.1 }
  - { name: wan-b, interface: wan2, gateway: 10.202.0.1 }
multi-wan: { apply-routes: true, nat: masquerade${extra} }
`, 'f.yaml');
  const transitions: Array<(t: Transition) => void> = [];
  let settled = Promise.resolve();
  const addresses: Record<string, string[]> = { 'wan-a': ['10.201.0.2'], 'wan-b': ['10.202.0.2'] };
  const m = {
    ...sectionOf(c, UPLINKS),
    routing: { enabled: true, reason: null, appliedAt: null },
    onChange: () => () => undefined,
    onTransitionEvent: (cb: (t: Transition) => void) => { transitions.push(cb); return () => undefined; },
    routesSettled: () => settled,
    addresses: (n: string) => addresses[n] ?? [],
    down(uplink: string, routes: Promise<void>) {
      settled = routes;
      for (const cb of transitions) cb({ uplink, from: 'up', to: 'down', reason: 'carrier lost on wan1', at: 0 } as unknown as Transition);
    },
  };
  return m;
}

const CT = [
  'tcp      6 431999 ESTABLISHED src=10.203.0.10 dst=10.250.0.7 sport=40000 dport=7 src=10.250.0.7 dst=10.201.0.2 sport=7 dport=40000 [ASSURED] mark=0 use=1',
  'udp      17 29 src=10.203.0.10 dst=10.250.0.7 sport=40001 dport=7 src=10.250.0.7 dst=10.202.0.2 sport=7 dport=40001 mark=0 use=1',
  'udp      17 29 src=10.203.0.11 dst=10.250.0.7 sport=40002 dport=7 src=10.250.0.7 dst=10.201.0.2 sport=7 dport=40002 mark=0 use=1',
  'udp      17 29 src=10.203.0.12 dst=198.51.100.1 sport=40003 dport=53 src=198.51.100.1 dst=10.203.0.12 sport=53 dport=40003 mark=60674 use=1',
  // the gateway's own probe by wan-b: not a session
  'udp      17 29 src=10.202.0.2 dst=10.250.0.53 sport=40004 dport=53 src=10.250.0.53 dst=10.202.0.2 sport=53 dport=40004 mark=60674 use=1',
].join('\n');

describe('NAT and conntrack pieces', () => {
  it('masquerades IPv4 leaving each uplink and keeps each flow on the uplink it started on, in chains of our table', () => {
    expect(renderNat(['wan1', 'wan2', 'wan1'])).toBe([
      'add table inet edgedns',
      'add chain inet edgedns nat_postrouting { type nat hook postrouting priority srcnat; policy accept; }',
      'add chain inet edgedns flows_mark { type filter hook postrouting priority mangle; policy accept; }',
      'add chain inet edgedns flows_restore { type filter hook prerouting priority mangle; policy accept; }',
      'flush chain inet edgedns nat_postrouting',
      'flush chain inet edgedns flows_mark',
      'flush chain inet edgedns flows_restore',
      'add rule inet edgedns flows_restore ct mark and 0xff00 == 0xed00 meta mark set ct mark',
      'add rule inet edgedns flows_mark ct state new ct mark and 0xff00 != 0xed00 oifname "wan1" ct mark set 0xed01',
      'add rule inet edgedns nat_postrouting meta nfproto ipv4 oifname "wan1" counter masquerade',
      'add rule inet edgedns flows_mark ct state new ct mark and 0xff00 != 0xed00 oifname "wan2" ct mark set 0xed02',
      'add rule inet edgedns nat_postrouting meta nfproto ipv4 oifname "wan2" counter masquerade',
      '',
    ].join('\n'));
  });

  it('reads the reply direction\'s destination and the mark of a conntrack line', () => {
    expect(parseFlow(CT.split('\n')[0])).toEqual({ origSrc: '10.203.0.10', replyDst: '10.201.0.2', mark: 0 });
    expect(parseFlow(CT.split('\n')[3])).toEqual({ origSrc: '10.203.0.12', replyDst: '10.203.0.12', mark: 60674 });
    expect(parseFlow('conntrack v1.4.7 (conntrack-tools): 4 flow entries have been shown.')).toBeNull();
  });

  it('counts what conntrack -D deleted; none matching (its exit 1) is 0, other failures throw', async () => {
    const host = new RecordingHost()
      .on(/--reply-dst 10\.201\.0\.2$/, CT.split('\n')[0])
      .on(/--reply-dst 10\.9\.9\.9$/, new Error('conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.'))
      .on(/--mark/, new Error('Operation not permitted'));
    expect(await deleteFlows(host, { replyDst: '10.201.0.2' })).toBe(1);
    expect(await deleteFlows(host, { replyDst: '10.9.9.9' })).toBe(0);
    await expect(deleteFlows(host, { mark: 0xed01, mask: 0xffff })).rejects.toThrow(/not permitted/);
    expect(host.lines(/conntrack/)[0]).toBe('conntrack -D -f ipv4 --reply-dst 10.201.0.2');
  });
});

describe('FlowKeeper', () => {
  it('puts NAT in at start and takes it out at stop, leaving the table to whoever else is in it', async () => {
    let natThere = false;
    const host = new RecordingHost()
      .on(/^nft -f -$/, (c) => { if (c.input?.includes('add chain inet edgedns nat_postrouting')) natThere = true; if (c.input?.startsWith('delete chain')) natThere = false; return ''; })
      .on(/^nft -j list table inet edgedns$/, () => JSON.stringify({ nftables: [{ table: { name: 'edgedns' } }, ...(natThere ? ['nat_postrouting', 'flows_mark', 'flows_restore'].map((name) => ({ chain: { name } })) : [])] }));
    const k = new FlowKeeper(monitor() as unknown as FlowUplinks, { now: () => 0 }, log, host);
    k.start();
    await k.settled();
    expect(natThere).toBe(true);
    expect(host.lines(/^write/)).toEqual([]); // failover mode: the multipath hash is left alone
    await k.stop(true);
    expect(host.lines(/^nft -f/).slice(-2)).toEqual(['nft -f -\ndelete chain inet edgedns nat_postrouting\ndelete chain inet edgedns flows_mark\ndelete chain inet edgedns flows_restore\n', 'nft -f -\ndelete table inet edgedns\n']);
  });

  it('load-balance hashes multipath routes on ports (and puts the host\'s value back at stop)', async () => {
    const host = new RecordingHost().file('/proc/sys/net/ipv4/fib_multipath_hash_policy', '0\n');
    const k = new FlowKeeper(monitor(', mode: load-balance') as unknown as FlowUplinks, { now: () => 0 }, log, host);
    k.start();
    await k.settled();
    expect(host.read('/proc/sys/net/ipv4/fib_multipath_hash_policy')).toBe('1\n');
    expect((await k.status()).l4Hash).toBe(true);
    await k.stop(true);
    expect(host.read('/proc/sys/net/ipv4/fib_multipath_hash_policy')).toBe('0\n');
    expect(host.lines(/^write/).every((l) => l.includes('ipv4'))).toBe(true); // no IPv6 file here: not written
  });

  it('on failover flushes the failed uplink\'s flows only, after the new routes are in, and counts them', async () => {
    const host = new RecordingHost()
      .on(/^conntrack -D -f ipv4 --reply-dst 10\.201\.0\.2$/, [CT.split('\n')[0], CT.split('\n')[2]].join('\n'))
      .on(/^conntrack -L -f ipv4$/, CT);
    const m = monitor();
    const k = new FlowKeeper(m as unknown as FlowUplinks, { now: () => 1_000 }, log, host);
    k.start();
    await k.settled();
    expect((await k.status()).uplinks.map((u) => [u.name, u.sessions])).toEqual([['wan-a', 2], ['wan-b', 2]]); // wan-b: one by its address, one by a domain policy's mark (0xed02)
    let routesIn!: () => void;
    m.down('wan-a', new Promise<void>((r) => { routesIn = r; }));
    await settle();
    expect(host.lines(/conntrack -D/)).toEqual([]); // still waiting for the routes
    routesIn();
    await settle();
    await k.settled();
    expect(host.lines(/conntrack -D/)).toEqual(['conntrack -D -f ipv4 --reply-dst 10.201.0.2', 'conntrack -D --mark 0xed01/0xffff']);
    const st = await k.status();
    expect(st.uplinks[0]).toMatchObject({ name: 'wan-a', flushed: 2, lastFlush: { flows: 2, reason: 'uplink down: carrier lost on wan1' } });
    expect(st.uplinks[1]).toMatchObject({ name: 'wan-b', flushed: 0, lastFlush: null });
    expect(k.snapshot()[0]).toMatchObject({ name: 'wan-a', flushed: 2 });
  });

  it('on-failover: keep leaves conntrack alone', async () => {
    const host = new RecordingHost();
    const m = monitor(', on-failover: keep');
    const k = new FlowKeeper(m as unknown as FlowUplinks, { now: () => 0 }, log, host);
    k.start();
    m.down('wan-a', Promise.resolve());
    await settle();
    await k.settled();
    expect(host.lines(/conntrack -D/)).toEqual([]);
  });

  it('an HA backup publishes no NAT and flushes nothing; becoming master puts NAT in', async () => {
    const host = new RecordingHost();
    const m = monitor();
    const k = new FlowKeeper(m as unknown as FlowUplinks, { now: () => 0 }, log, host, false);
    k.start();
    m.down('wan-a', Promise.resolve());
    await settle();
    await k.settled();
    expect(host.lines(/masquerade|conntrack -D/)).toEqual([]);
    expect((await k.status()).publishing).toBe(false);
    k.setPublishing(true);
    await k.settled();
    expect(host.lines(/masquerade/)).toHaveLength(1);
  });
});
