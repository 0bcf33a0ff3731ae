/**
 * Live names from real Kea: kea-dhcp4 and kea-dhcp6 in a gateway namespace write their lease
 * files; real clients (busybox udhcpc, ISC dhclient -6) in a host namespace get leases, renew,
 * release, or just let them expire; edgedns in the gateway namespace serves the names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from './helpers/dig.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { KeaLab } from './helpers/kea-lab.js';
import { missingOrNotRoot } from './helpers/system.js';

const skip = missingOrNotRoot('kea-dhcp4', 'kea-dhcp6', 'busybox', 'dhclient', 'ip', 'dig');
const VALID = 16; // busybox udhcpc schedules renewals as if a lease were at least 16 s
const SHORT = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip)('live names from real Kea leases', { timeout: 60_000 }, () => {
  let lab: KeaLab;
  let edge: EdgednsProcess;
  const q = (...a: string[]) => dig(['@127.0.0.1', '-p', '5353', '+time=1', ...a], 5000, lab.gw.name);
  /** Poll until `check` holds; returns the ms it took, or -1. */
  const within = async (ms: number, check: () => Promise<boolean>) => {
    const start = Date.now();
    while (Date.now() - start < ms) {
      if (await check()) return Date.now() - start;
      await sleep(100);
    }
    return -1;
  };
  const resolvesTo = (name: string, addr: string, type = 'A') => async () => (await q(name, type)).answer.some((a) => a.data === addr);
  const gone = (name: string, type = 'A') => async () => (await q(name, type)).status === 'NXDOMAIN';

  beforeAll(async () => {
    lab = new KeaLab();
    // edgedns first: the lease files do not exist yet, as when Kea starts after us.
    edge = await EdgednsProcess.start(`
listen:
  - { address: 127.0.0.1, port: 5353 }
zone:
  domain: home.arpa
upstreams: [udp://127.0.0.1:9]
upstream-timeout: 200ms
leases:
  kea4: ${lab.leases4}
  kea6: ${lab.leases6}
  ttl: 300s
  conflict: newest
`, { netns: lab.gw.name });
    lab.startKea({ validLifetime: VALID, minValidLifetime: SHORT, renewTimer: VALID / 2, rebindTimer: (VALID * 7) / 8, lfcInterval: 3 });
    await sleep(500);
  });

  afterAll(async () => {
    await edge?.stop();
    lab?.stop();
  });

  it('an abandoned lease disappears when its time is up', async () => {
    const addr = lab.leaseOnce('02:00:00:00:00:22', 'shortlived', SHORT);
    expect(await within(2000, resolvesTo('shortlived.home.arpa', addr))).toBeGreaterThanOrEqual(0);
    const a = (await q('shortlived.home.arpa')).answer[0];
    expect(a.ttl).toBeLessThanOrEqual(SHORT); // never longer than the lease has left
    expect((await q('-x', addr)).answer[0].data).toBe('shortlived.home.arpa.');
    expect(await within((SHORT + 2) * 1000, gone('shortlived.home.arpa'))).toBeGreaterThanOrEqual(0);
    expect((await q('-x', addr)).status).toBe('NXDOMAIN');
  });

  it('two clients sending one hostname: the newest lease gets the name, the other no PTR', async () => {
    const first = lab.leaseOnce('02:00:00:00:00:33', 'twin');
    expect(await within(2000, resolvesTo('twin.home.arpa', first))).toBeGreaterThanOrEqual(0);
    await sleep(1100); // a later cltt
    const second = lab.leaseOnce('02:00:00:00:00:44', 'twin');
    expect(second).not.toBe(first);
    expect(await within(2000, async () => {
      const r = await q('twin.home.arpa');
      return r.answer.length === 1 && r.answer[0].data === second;
    })).toBeGreaterThanOrEqual(0);
    expect((await q('-x', second)).answer[0].data).toBe('twin.home.arpa.');
    expect((await q('-x', first)).status).toBe('NXDOMAIN');
  });

  it('DHCPv6 leases give AAAA and PTR, and a release removes them', async () => {
    lab.lease6('laptop6');
    let addr = '';
    expect(await within(3000, async () => {
      addr = (await q('laptop6.home.arpa', 'AAAA')).answer[0]?.data ?? '';
      return addr !== '';
    })).toBeGreaterThanOrEqual(0);
    expect(addr).toMatch(/^fd00:50::/);
    expect((await q('-x', addr)).answer[0].data).toBe('laptop6.home.arpa.');
    lab.release6();
    expect(await within(2000, gone('laptop6.home.arpa', 'AAAA'))).toBeGreaterThanOrEqual(0);
  });

  it('a client that stays: named within 2 s of its lease, kept through renewals and LFC rotations, gone within 2 s of its release', { timeout: 60_000 }, async () => {
    const { child } = lab.client('02:00:00:00:00:55', 'laptop');
    try {
      let addr = '';
      // from starting the client: the DHCP exchange (~0.1–1 s) plus our update
      expect(await within(3000, async () => {
        addr = (await q('laptop.home.arpa')).answer[0]?.data ?? '';
        return addr !== '';
      })).toBeGreaterThanOrEqual(0);
      expect((await q('-x', addr)).answer[0].data).toBe('laptop.home.arpa.');
      const lfcBefore = lab.lfcRuns();
      const wrong: string[] = [];
      const end = Date.now() + VALID * 1000 + 4000; // past the first lease's end: renewals carry it
      while (Date.now() < end) {
        const r = await q('laptop.home.arpa');
        if (r.answer[0]?.data !== addr) wrong.push(`${r.status} ${r.answer[0]?.data ?? ''}`);
        await sleep(200);
      }
      expect(lab.lfcRuns() - lfcBefore).toBeGreaterThanOrEqual(3);
      expect(wrong).toEqual([]);
      child.kill('SIGTERM'); // udhcpc -R: DHCPRELEASE
      expect(await within(2000, gone('laptop.home.arpa'))).toBeGreaterThanOrEqual(0);
      expect((await q('-x', addr)).status).toBe('NXDOMAIN');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
