/**
 * A wildcard UDP listener (`address: 0.0.0.0` and `::`) answers from the address each query was
 * sent to (IP_PKTINFO, the native path), in a namespace this test makes with two addresses in one
 * subnet: dig rejects an answer from any other source. On node:dgram the kernel would pick the
 * subnet's first address, so there edgedns must say so at start instead.
 *
 *   gw [veth0 10.231.0.1/24 10.231.0.2/24 fd31::1/64 fd31::2/64] —— [veth1 10.231.0.10 fd31::10] client
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { dig } from './helpers/dig.js';
import { Netns } from './helpers/netns.js';
import { missingOrNotRoot } from './helpers/system.js';
import { nativeUdp } from '../src/host/native-udp.js';

const skip = missingOrNotRoot('ip', 'dig');
const native = nativeUdp().addon !== null;

describe.skipIf(skip)('UDP on a wildcard address', () => {
  let gw: Netns;
  let client: Netns;
  let edge: EdgednsProcess;

  beforeAll(async () => {
    gw = new Netns();
    client = new Netns();
    gw.ip('link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1', 'netns', client.name);
    for (const a of ['10.231.0.1/24', '10.231.0.2/24']) gw.ip('addr', 'add', a, 'dev', 'veth0');
    for (const a of ['fd31::1/64', 'fd31::2/64']) gw.ip('-6', 'addr', 'add', a, 'dev', 'veth0', 'nodad');
    client.ip('addr', 'add', '10.231.0.10/24', 'dev', 'veth1');
    client.ip('-6', 'addr', 'add', 'fd31::10/64', 'dev', 'veth1', 'nodad');
    gw.ip('link', 'set', 'veth0', 'up');
    client.ip('link', 'set', 'veth1', 'up');
    edge = await EdgednsProcess.start(`
listen:
  - { address: 0.0.0.0, port: 53, protocols: [udp] }
  - { address: "::", port: 53, protocols: [udp] }
zone:
  domain: home.arpa
  records: [{ name: gw, type: A, value: 10.231.0.1 }]
upstreams: [udp://127.0.0.1:1]
`, { netns: gw.name });
  });

  afterAll(async () => {
    await edge?.stop();
    client?.remove();
    gw?.remove();
  });

  it.runIf(native)('answers from the address asked, on IPv4 and IPv6', async () => {
    for (const server of ['10.231.0.2', '10.231.0.1', 'fd31::2', 'fd31::1']) {
      const r = await dig([`@${server}`, 'gw.home.arpa', 'A', '+time=1', '+tries=1'], 4000, client.name);
      expect(r.answer[0]?.data, server).toBe('10.231.0.1');
    }
  });

  it.runIf(!native)('on node:dgram, says at start that a wildcard cannot answer from the address asked', async () => {
    await edge.waitForLog('a UDP wildcard listener without the native addon');
  });
});
