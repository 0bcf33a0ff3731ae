/**
 * Unmodified Kea D2 (kea-dhcp-ddns) as the DDNS client: kea-dhcp4 leases to busybox udhcpc in a
 * host namespace and tells D2, which sends TSIG-signed RFC 2136 UPDATEs (with its RFC 4703
 * DHCID checks) to edgedns in the gateway namespace. edgedns reads no lease file here: every
 * name comes by UPDATE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from './helpers/dig.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { KeaLab } from './helpers/kea-lab.js';
import { dhcidFor } from '../src/ddns/dhcid.js';
import { missingOrNotRoot } from './helpers/system.js';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const skip = missingOrNotRoot('kea-dhcp4', 'kea-dhcp-ddns', 'busybox', 'ip', 'dig');
const SECRET = 'LSWXnfkKZjdPJI5QxlpnfQ==';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip)('Kea D2 sends its updates to edgedns', { timeout: 60_000 }, () => {
  let lab: KeaLab;
  let edge: EdgednsProcess;
  const q = (...a: string[]) => dig(['@127.0.0.1', '-p', '5354', '+time=1', ...a], 5000, lab.gw.name);
  const within = async (ms: number, check: () => Promise<boolean>) => {
    const start = Date.now();
    while (Date.now() - start < ms) {
      if (await check()) return Date.now() - start;
      await sleep(50);
    }
    return -1;
  };
  const a = async (name: string, type = 'A') => (await q(name, type)).answer.filter((r) => r.type === type).map((r) => r.data);

  beforeAll(async () => {
    lab = new KeaLab();
    execFileSync('sh', ['-c', `umask 077; echo ${SECRET} > ${join(lab.dir, 'kea.tsig')}`]);
    edge = await EdgednsProcess.start(`
listen: [{ address: 127.0.0.1, port: 5354 }]
zone: { domain: home.arpa, reverse: [192.168.50.0/24] }
upstreams: [udp://127.0.0.1:9]
ddns:
  keys: [{ name: kea-key, algorithm: hmac-sha256, secret-file: ${join(lab.dir, 'kea.tsig')} }]
  accept: [{ key: kea-key, names: ["*.home.arpa", "*.in-addr.arpa"], types: [A, PTR, DHCID] }]
  journal: ${join(lab.dir, 'ddns.journal')}
`, { netns: lab.gw.name });
    lab.startKea({ validLifetime: 600, minValidLifetime: 60, renewTimer: 300, rebindTimer: 500, lfcInterval: 0 },
      { d2Port: 53001, dnsPort: 5354, key: { name: 'kea-key.', secret: SECRET } });
    await sleep(800);
  });

  afterAll(async () => {
    await edge?.stop();
    lab?.stop();
  });

  it('a lease\'s name answers within 1 s, with its PTR and DHCID', async () => {
    const addr = lab.leaseOnce('02:00:00:00:d2:01', 'printer');
    expect(await within(1000, async () => (await a('printer.home.arpa')).includes(addr)), lab.log('d2.log').slice(-2000)).toBeGreaterThanOrEqual(0);
    // The DHCID D2 wrote is the one edgedns's push computes for the same client (id 01 + MAC) and name.
    expect(await a('printer.home.arpa', 'DHCID')).toEqual([dhcidFor('0001' + '01020000' + '00d201', 'printer.home.arpa')]);
    expect(await within(1000, async () => (await a(addr.split('.').reverse().join('.') + '.in-addr.arpa', 'PTR')).includes('printer.home.arpa.'))).toBeGreaterThanOrEqual(0);
  });

  it('a second client claiming the same name is refused by DHCID; release removes the name', async () => {
    const first = (await a('printer.home.arpa'))[0];
    const other = lab.leaseOnce('02:00:00:00:d2:02', 'printer');
    expect(other).not.toBe(first);
    // D2 tries "name not in use" (YXDOMAIN), then "the DHCID is mine" (NXRRSET) and gives up.
    expect(await within(3000, async () => /DHCP_DDNS_FORWARD_ADD_REJECTED|conflict/i.test(lab.log('d2.log')))).toBeGreaterThanOrEqual(0);
    expect(await a('printer.home.arpa')).toEqual([first]);
    await lab.releaseOnce('02:00:00:00:d2:01', 'printer');
    expect(await within(3000, async () => (await q('printer.home.arpa', 'A')).status === 'NXDOMAIN'), lab.log('d2.log').slice(-2000)).toBeGreaterThanOrEqual(0);
    expect(await a('printer.home.arpa', 'DHCID')).toEqual([]);
  });
});
