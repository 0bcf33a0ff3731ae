/**
 * `listen: - interface: X` follows the interface's addresses: run edgedns inside a network
 * namespace this test creates, add and remove addresses on a veth there, and query each one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from './helpers/dig.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { Netns } from './helpers/netns.js';
import { missingOrNotRoot } from './helpers/system.js';

const skip = missingOrNotRoot('ip', 'dig');

async function until(check: () => Promise<boolean>, timeoutMs = 8000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

describe.skipIf(skip)('listening by interface', () => {
  let ns: Netns;
  let edge: EdgednsProcess;
  const ask = (addr: string) => dig([`@${addr}`, '-p', '5353', 'gw.home.arpa', '+time=1'], 5000, ns.name).catch(() => null);

  beforeAll(async () => {
    ns = new Netns();
    ns.ip('link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan0p');
    ns.ip('link', 'set', 'lan0', 'up');
    ns.ip('link', 'set', 'lan0p', 'up');
    ns.ip('addr', 'add', '10.77.0.1/24', 'dev', 'lan0');
    edge = await EdgednsProcess.start(`
listen:
  - { interface: lan0, port: 5353 }
zone:
  records:
    - { name: gw, type: A, value: 10.77.0.1 }
upstreams: [udp://127.0.0.1:9]
`, { netns: ns.name });
  });

  afterAll(async () => {
    await edge?.stop();
    ns?.remove();
  });

  it('answers on the address the interface has at start', async () => {
    expect((await ask('10.77.0.1'))?.answer[0].data).toBe('10.77.0.1');
  });

  it('opens a listener when an address is added and closes it when removed', async () => {
    ns.ip('addr', 'add', '10.78.0.2/24', 'dev', 'lan0'); // another subnet: deleting a primary drops its secondaries
    expect(await until(async () => (await ask('10.78.0.2'))?.status === 'NOERROR')).toBe(true);
    ns.ip('addr', 'del', '10.77.0.1/24', 'dev', 'lan0');
    await edge.waitForLog('listener closed', 8000);
    expect(edge.logs.some((l) => l.includes('listener closed') && l.includes('10.77.0.1'))).toBe(true);
    expect((await ask('10.78.0.2'))?.status).toBe('NOERROR');
  });
});
