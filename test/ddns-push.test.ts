/**
 * `ddns.push` against a real Knot DNS primary in a network namespace the test makes: edgedns
 * sends its lease names (A, PTR, DHCID) signed with TSIG, leaves alone a name the primary holds
 * for someone else (RFC 4703), removes what it created when the lease goes, and, with the link to
 * the primary down for 30 s, keeps the changes and delivers them when it is back. The lease
 * source is a Kea memfile the test writes (real Kea is the D2 test's).
 */
import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminGet, adminText } from './helpers/admin-socket.js';
import { dig } from './helpers/dig.js';
import { BIN, EdgednsProcess } from './helpers/edgedns-process.js';
import { KnotServer } from './helpers/knot-server.js';
import { ip, Netns } from './helpers/netns.js';
import { freePort } from './helpers/ports.js';
import { until } from './helpers/until.js';
import { missingOrNotRoot } from './helpers/system.js';

const run = promisify(execFile);
const skip = missingOrNotRoot('knotd', 'dig');
const SECRET = 'c2VjcmV0LWZvci10aGUtY29ycC1wcmltYXJ5IQ==';
const H4 = 'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context';

type Push = { server: string; pending: number; held: number; pushed: number; conflicts: number; conflicted: string[]; lastSuccess: string | null; lastError: { reason: string } | null };


describe.skipIf(skip !== null)(`DDNS push to a Knot primary${skip ? ` (${skip})` : ''}`, () => {
  let ns: Netns;
  let knot: KnotServer;
  let edge: EdgednsProcess;
  let dir: string;
  let leases: string;
  let socket: string;
  let config: string;
  const hostIf = `pp${process.pid % 100000}`;
  const octet = 100 + (process.pid % 100);
  const primary = `10.213.${octet}.2`;
  const now = () => Math.floor(Date.now() / 1000);
  const row = (addr: string, mac: string, host: string, valid = 3600) => `${addr},${mac},,${valid},${now() + valid},1,0,0,${host},0,\n`;
  const atPrimary = async (name: string, type: string) =>
    (await dig(['@' + primary, '+tries=1', '+time=2', name, type], 5000)).answer.filter((r) => r.type === type).map((r) => r.data);
  const pushes = async () => ((await adminGet(socket, '/ddns')) as { push: Push[] }).push[0];

  beforeAll(async () => {
    if (process.env.EDGEDNS_REQUIRE_SYSTEM === '1' && skip) throw new Error(skip);
    ns = new Netns();
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'corp0', 'netns', ns.name);
    ip('addr', 'add', `10.213.${octet}.1/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ns.ip('addr', 'add', `${primary}/30`, 'dev', 'corp0');
    ns.ip('link', 'set', 'corp0', 'up');
    knot = KnotServer.start({
      listen: `${primary}@53`, netns: ns.name,
      keys: [{ id: 'corp', algorithm: 'hmac-sha256', secret: SECRET }],
      sections: [
        'acl:', '  - id: corp-update', '    key: corp', '    action: update',
        'zone:', '  - domain: branch.corp.example', '    acl: corp-update', '  - domain: 50.168.192.in-addr.arpa', '    acl: corp-update',
      ],
      zoneFiles: {
        'branch.corp.example': ['taken A 198.51.100.7', 'other TXT "made by the corp admins"'],
        '50.168.192.in-addr.arpa': [],
      },
    });
    await until('knot to serve', () => atPrimary('taken.branch.corp.example', 'A').catch(() => []), (v) => v.length === 1);

    dir = mkdtempSync(join(tmpdir(), 'edgedns-push-'));
    leases = join(dir, 'leases4.csv');
    writeFileSync(leases, `${H4}\n${row('192.168.50.10', 'aa:bb:cc:00:00:10', 'printer')}${row('192.168.50.11', 'aa:bb:cc:00:00:11', 'taken')}`);
    writeFileSync(join(dir, 'corp.tsig'), `${SECRET}\n`);
    socket = join(dir, 'admin.sock');
    const port = await freePort();
    config = [
      `listen: [{ address: 127.0.0.1, port: ${port} }]`,
      'zone: { domain: home.arpa, reverse: [192.168.50.0/24] }',
      'upstreams: [udp://127.0.0.1:9]',
      `leases: { kea4: ${leases} }`,
      'ddns:',
      `  keys: [{ name: corp, algorithm: hmac-sha256, secret-file: ${join(dir, 'corp.tsig')} }]`,
      `  journal: ${join(dir, 'ddns.journal')}`,
      `  push: [{ server: ${primary}, zone: branch.corp.example, key: corp, reverse-zones: [50.168.192.in-addr.arpa] }]`,
      `admin: { socket: ${socket} }`,
    ].join('\n');
    edge = await EdgednsProcess.start(config, { configDir: dir });
  }, 30_000);

  afterAll(async () => {
    await edge?.stop();
    await knot?.stop();
    ns?.remove();
    try { ip('link', 'del', hostIf); } catch { /* went with the namespace */ }
  });

  it('pushes a lease name with its PTR and DHCID, and never touches a name the primary holds for another', async () => {
    expect(await until('printer on the primary', () => atPrimary('printer.branch.corp.example', 'A'), (v) => v.length > 0)).toEqual(['192.168.50.10']);
    expect(await atPrimary('printer.branch.corp.example', 'DHCID')).toHaveLength(1);
    expect(await atPrimary('10.50.168.192.in-addr.arpa', 'PTR')).toEqual(['printer.branch.corp.example.']);
    const p = await until('the conflict to be counted', pushes, (s) => s.conflicts >= 1 && s.pending === 0);
    expect(p.conflicted).toEqual(['taken.branch.corp.example', '11.50.168.192.in-addr.arpa']);
    expect(await atPrimary('taken.branch.corp.example', 'A')).toEqual(['198.51.100.7']);
    expect(await atPrimary('taken.branch.corp.example', 'DHCID')).toEqual([]);
    expect(await atPrimary('11.50.168.192.in-addr.arpa', 'PTR')).toEqual([]);
    expect(await atPrimary('other.branch.corp.example', 'TXT')).toEqual(['"made by the corp admins"']);
    expect(p.lastSuccess).not.toBeNull();
    const show = await run(process.execPath, [BIN, 'show', 'ddns', '--admin', `unix:${socket}`]);
    expect(show.stdout).toMatch(new RegExp(`pushes to external primaries[\\s\\S]*${primary.replace(/\./g, '\\.')}:53\\s+branch\\.corp\\.example\\s+0\\s+2\\s+\\d+\\s+1\\s+\\S+ ago`));
    const metrics = await adminText(socket, '/metrics');
    expect(metrics).toContain(`edgedns_ddns_push_conflicts_total{primary="${primary}:53/branch.corp.example"} 1`);
  });

  it('removes what it created when the lease is released', async () => {
    appendFileSync(leases, row('192.168.50.10', 'aa:bb:cc:00:00:10', 'printer', 0));
    await until('printer gone from the primary', () => atPrimary('printer.branch.corp.example', 'A'), (v) => v.length === 0);
    expect(await atPrimary('printer.branch.corp.example', 'DHCID')).toEqual([]);
    // The reverse zone's removal is an UPDATE of its own and may land after the forward one's.
    expect(await until('its PTR gone', () => atPrimary('10.50.168.192.in-addr.arpa', 'PTR'), (v) => v.length === 0)).toEqual([]);
    expect(await atPrimary('taken.branch.corp.example', 'A')).toEqual(['198.51.100.7']);
  });

  it('keeps changes while the primary is unreachable for 30 s, then delivers them', async () => {
    // The primary's side goes down: our route stays, packets vanish (nothing leaves for elsewhere).
    ns.ip('link', 'set', 'corp0', 'down');
    appendFileSync(leases, row('192.168.50.12', 'aa:bb:cc:00:00:12', 'scanner'));
    const waiting = await until('the push to fail', pushes, (s) => s.pending >= 1 && s.lastError !== null);
    expect(waiting.lastError!.reason).toMatch(/no answer from 10\.213\./);
    await new Promise((r) => setTimeout(r, 30_000));
    expect((await pushes()).pending).toBeGreaterThanOrEqual(1);
    ns.ip('link', 'set', 'corp0', 'up');
    expect(await until('scanner on the primary', () => atPrimary('scanner.branch.corp.example', 'A').catch(() => []), (v) => v.length > 0, 40_000)).toEqual(['192.168.50.12']);
    expect(await atPrimary('12.50.168.192.in-addr.arpa', 'PTR')).toEqual(['scanner.branch.corp.example.']);
    // held: scanner and its PTR (taken's PTR is not pushed: its name is someone else's there)
    expect((await until('the queue to empty', pushes, (s) => s.pending === 0)).held).toBe(2);
  }, 90_000);

  it('after a restart, works out what changed meanwhile from what the primary acknowledged', async () => {
    await edge.stop();
    appendFileSync(leases, row('192.168.50.12', 'aa:bb:cc:00:00:12', 'scanner', 0)); // released while we were down
    appendFileSync(leases, row('192.168.50.13', 'aa:bb:cc:00:00:13', 'camera'));
    edge = await EdgednsProcess.start(config, { configDir: dir });
    expect(await until('camera on the primary', () => atPrimary('camera.branch.corp.example', 'A'), (v) => v.length > 0)).toEqual(['192.168.50.13']);
    await until('scanner gone from the primary', () => atPrimary('scanner.branch.corp.example', 'A'), (v) => v.length === 0);
    // the PTR goes in its own UPDATE (the reverse zone), which may land after the A's
    expect(await until('the PTR of scanner gone too', () => atPrimary('12.50.168.192.in-addr.arpa', 'PTR'), (v) => v.length === 0)).toEqual([]);
    expect(await atPrimary('taken.branch.corp.example', 'A')).toEqual(['198.51.100.7']);
  }, 30_000);
});
