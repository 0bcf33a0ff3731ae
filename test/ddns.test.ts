/**
 * RFC 2136 updates into the local zone from a real nsupdate (bind9-dnsutils), with TSIG and
 * without; zone transfers out to dig (AXFR, IXFR) with TSIG; the journal across a kill -9.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Buffer } from 'node:buffer';
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASS_IN, RRType } from '../src/dns/constants.js';
import { buildUpdate, valueToRdata } from '../src/dns/update-message.js';
import { dig } from './helpers/dig.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { freePort } from './helpers/ports.js';
import { missing } from './helpers/system.js';
import { adminGet } from './helpers/admin-socket.js';
import { BIN } from './helpers/edgedns-process.js';

const run = promisify(execFile);
const skip = missing('nsupdate', 'dig');
const SECRET = 'LSWXnfkKZjdPJI5QxlpnfQ==';

/** dig's AXFR/IXFR output: one record a line, no sections. */
async function xfr(port: number, key: string, name: string, type: string): Promise<Array<{ name: string; type: string; data: string }>> {
  const { stdout } = await run('dig', ['-p', String(port), '@127.0.0.1', '-y', key, name, type], { timeout: 10_000 });
  expect(stdout).not.toMatch(/failed|tsig verify failure/i);
  return stdout.split('\n').filter((l) => l && !l.startsWith(';')).map((l) => {
    const [n, , , t, ...data] = l.split(/\s+/);
    return { name: n, type: t, data: data.join(' ') };
  }).filter((r) => r.type !== 'TSIG');
}

async function nsupdate(port: number, lines: string[], key?: string): Promise<{ out: string; ok: boolean }> {
  const script = [`server 127.0.0.1 ${port}`, ...lines, 'send', ''].join('\n');
  const args = key ? ['-y', key] : [];
  return new Promise((resolve) => {
    const child = execFile('nsupdate', ['-t', '3', ...args], { timeout: 10_000 }, (err, stdout, stderr) => resolve({ out: `${stdout}${stderr}`, ok: err === null }));
    child.stdin!.end(script);
  });
}

describe.skipIf(skip !== null)(`DDNS with nsupdate and dig${skip ? ` (${skip})` : ''}`, () => {
  let edge: EdgednsProcess;
  let port: number;
  let dir: string;
  let socket: string;
  let config: string;
  const key = `hmac-sha256:kea-d2:${SECRET}`;

  beforeAll(async () => {
    if (process.env.EDGEDNS_REQUIRE_SYSTEM === '1' && skip) throw new Error(skip);
    dir = mkdtempSync(join(tmpdir(), 'edgedns-ddns-'));
    writeFileSync(join(dir, 'kea.tsig'), `${SECRET}\n`);
    port = await freePort();
    socket = join(dir, 'admin.sock');
    config = [
      `listen: [{ address: 127.0.0.1, port: ${port} }]`,
      'zone: { domain: home.arpa, reverse: [192.168.50.0/24], records: [{ name: nas, type: A, value: 192.168.50.5 }] }',
      'upstreams: [udp://127.0.0.1:9]',
      'ddns:',
      `  keys: [{ name: kea-d2, algorithm: hmac-sha256, secret-file: ${join(dir, 'kea.tsig')} }]`,
      '  accept:',
      '    - { key: kea-d2, names: ["*.home.arpa", "*.in-addr.arpa"], types: [A, AAAA, PTR, DHCID, TXT] }',
      '    - { from: 127.0.0.2/32, names: ["*.home.arpa"], types: [A] }',
      `  journal: ${join(dir, 'ddns.journal')}`,
      '  transfer: { allow: [{ key: kea-d2 }] }',
      `admin: { socket: ${socket} }`,
    ].join('\n');
    edge = await EdgednsProcess.start(config, { configDir: dir });
  }, 20_000);

  afterAll(async () => {
    await edge?.stop();
  });

  const a = async (name: string, type = 'A') => (await dig(['-p', String(port), '@127.0.0.1', name, type])).answer.map((r) => r.data);

  it('adds, replaces and deletes with TSIG; the answer follows at once and the serial moves', async () => {
    const soa0 = (await dig(['-p', String(port), '@127.0.0.1', 'home.arpa', 'SOA'])).answer[0].data.split(' ')[2];
    const add = await nsupdate(port, ['zone home.arpa', 'update add scanner.home.arpa 600 A 192.168.50.101', 'update add scanner.home.arpa 600 TXT "hello"'], key);
    expect(add.ok, add.out).toBe(true);
    expect(await a('scanner.home.arpa')).toEqual(['192.168.50.101']);
    const soa1 = (await dig(['-p', String(port), '@127.0.0.1', 'home.arpa', 'SOA'])).answer[0].data.split(' ')[2];
    expect(Number(soa1)).toBeGreaterThan(Number(soa0));
    // prerequisites: name in use → the delete of one record applies
    const del = await nsupdate(port, ['zone home.arpa', 'prereq yxdomain scanner.home.arpa', 'update delete scanner.home.arpa TXT'], key);
    expect(del.ok, del.out).toBe(true);
    expect(await a('scanner.home.arpa', 'TXT')).toEqual([]);
    // value-dependent prerequisite that does not hold → NXRRSET, nothing changes
    const bad = await nsupdate(port, ['zone home.arpa', 'prereq yxrrset scanner.home.arpa A 192.168.50.99', 'update delete scanner.home.arpa A'], key);
    expect(bad.ok).toBe(false);
    expect(bad.out).toMatch(/NXRRSET/);
    expect(await a('scanner.home.arpa')).toEqual(['192.168.50.101']);
    // name not in use, for a name that is → YXDOMAIN
    const yx = await nsupdate(port, ['zone home.arpa', 'prereq nxdomain scanner.home.arpa', 'update add scanner.home.arpa 600 A 192.168.50.102'], key);
    expect(yx.out).toMatch(/YXDOMAIN/);
    // reverse zone
    const ptr = await nsupdate(port, ['zone 50.168.192.in-addr.arpa', 'update add 101.50.168.192.in-addr.arpa 600 PTR scanner.home.arpa.'], key);
    expect(ptr.ok, ptr.out).toBe(true);
    expect(await a('101.50.168.192.in-addr.arpa', 'PTR')).toEqual(['scanner.home.arpa.']);
  });

  it('takes the other prerequisite and update forms: nxrrset, yxrrset by type, delete one record, delete a name', async () => {
    const run1 = await nsupdate(port, ['zone home.arpa', 'prereq nxrrset multi.home.arpa A',
      'update add multi.home.arpa 600 A 192.168.50.61', 'update add multi.home.arpa 600 A 192.168.50.62', 'update add multi.home.arpa 600 TXT "two"'], key);
    expect(run1.ok, run1.out).toBe(true);
    expect((await a('multi.home.arpa')).sort()).toEqual(['192.168.50.61', '192.168.50.62']);
    const again = await nsupdate(port, ['zone home.arpa', 'prereq nxrrset multi.home.arpa A', 'update add multi.home.arpa 600 A 192.168.50.63'], key);
    expect(again.out).toMatch(/YXRRSET/);
    const one = await nsupdate(port, ['zone home.arpa', 'prereq yxrrset multi.home.arpa A', 'update delete multi.home.arpa A 192.168.50.61'], key);
    expect(one.ok, one.out).toBe(true);
    expect(await a('multi.home.arpa')).toEqual(['192.168.50.62']);
    const none = await nsupdate(port, ['zone home.arpa', 'prereq yxrrset multi.home.arpa MX', 'update delete multi.home.arpa'], key);
    expect(none.out).toMatch(/NXRRSET/);
    const all = await nsupdate(port, ['zone home.arpa', 'prereq yxdomain multi.home.arpa', 'update delete multi.home.arpa'], key);
    expect(all.ok, all.out).toBe(true);
    expect((await dig(['-p', String(port), '@127.0.0.1', 'multi.home.arpa', 'TXT'])).status).toBe('NXDOMAIN');
  });

  it('refuses unsigned updates, answers NOTAUTH for a wrong key and NOTZONE outside the zone', async () => {
    const unsigned = await nsupdate(port, ['zone home.arpa', 'update add x.home.arpa 60 A 192.168.50.7']);
    expect(unsigned.out).toMatch(/REFUSED/);
    const wrong = await nsupdate(port, ['zone home.arpa', 'update add x.home.arpa 60 A 192.168.50.7'], 'hmac-sha256:kea-d2:AAAAAAAAAAAAAAAAAAAAAA==');
    expect(wrong.ok).toBe(false);
    const notzone = await nsupdate(port, ['zone home.arpa', 'update add x.other.example 60 A 192.168.50.7'], key);
    expect(notzone.out).toMatch(/NOTZONE/);
    const type = await nsupdate(port, ['zone home.arpa', 'update add x.home.arpa 60 MX 10 mail.home.arpa.'], key);
    expect(type.out).toMatch(/REFUSED/);
    expect(await a('x.home.arpa')).toEqual([]);
    const status = await adminGet(socket, '/ddns') as { updates: { byKey: Record<string, Record<string, number>> } };
    expect(status.updates.byKey['-']?.REFUSED).toBeGreaterThanOrEqual(1);
    expect(status.updates.byKey['kea-d2']?.NOERROR).toBeGreaterThanOrEqual(3);
  });

  it('transfers the zone by AXFR and IXFR with TSIG, and refuses it unsigned', async () => {
    const axfr = await xfr(port, key, 'home.arpa', 'AXFR');
    const names = axfr.map((r) => `${r.name} ${r.type}`);
    expect(names[0]).toBe('home.arpa. SOA');
    expect(names.at(-1)).toBe('home.arpa. SOA');
    expect(names).toContain('scanner.home.arpa. A');
    expect(names).toContain('nas.home.arpa. A');
    const serial = Number(axfr[0].data.split(' ')[2]);
    await nsupdate(port, ['zone home.arpa', 'update add printer.home.arpa 600 A 192.168.50.120'], key);
    const ixfr = await xfr(port, key, 'home.arpa', `IXFR=${serial}`);
    const types = ixfr.map((r) => `${r.name} ${r.type}`);
    expect(types).toContain('printer.home.arpa. A');
    expect(types).not.toContain('nas.home.arpa. A'); // a diff, not the whole zone
    const refused = await run('dig', ['-p', String(port), '@127.0.0.1', '+tcp', 'home.arpa', 'AXFR']).then((r) => r.stdout);
    expect(refused).toMatch(/Transfer failed|REFUSED/);
  });

  it('ddns keygen prints a secret the key entry can use; show ddns reads the running server', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'ddns', 'keygen', 'k2', '--algorithm', 'hmac-sha512']);
    const secret = stdout.split('\n').find((l) => l && !l.startsWith('#') && !l.startsWith('-'))!;
    expect(Buffer.from(secret, 'base64')).toHaveLength(64);
    expect(stdout).toContain('- { name: k2, algorithm: hmac-sha512, secret-file: /etc/edgedns/k2.tsig }');
    const show = await run(process.execPath, [BIN, 'show', 'ddns', '--admin', `unix:${socket}`]);
    expect(show.stdout).toMatch(/serial \d+; \d+ dynamic names/);
    expect(show.stdout).toMatch(/kea-d2\s+NOERROR/);
  });

  it('answers bad UPDATEs with FORMERR or a drop, and a burst of 10,000 leaves every message whole or absent', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.2', () => r()));
    // Answers come back in sendmmsg batches: room for them while this busy test process reads.
    try { sock.setRecvBufferSize(8 * 1024 * 1024); } catch { /* capped by net.core.rmem_max */ }
    const replies = new Map<number, number>();
    sock.on('message', (m) => { if (m.length >= 12) replies.set(m.readUInt16BE(0), m[3] & 0x0f); });
    const send = (m: Buffer) => new Promise<void>((r, j) => sock.send(m, port, '127.0.0.1', (e) => (e ? j(e) : r())));
    const rr = (name: string, type: number, cls: number, ttl: number, value?: string) =>
      ({ name, type, cls, ttl, rdata: value === undefined ? Buffer.alloc(0) : valueToRdata(type, value) });
    const good = buildUpdate(1, 'home.arpa', [], [rr('bad.home.arpa', RRType.A, CLASS_IN, 60, '192.168.50.9')]);
    const chaos = buildUpdate(2, 'home.arpa', [rr('nas.home.arpa', RRType.A, 3, 0)], [rr('bad.home.arpa', RRType.A, CLASS_IN, 60, '192.168.50.9')]);
    const loop = Buffer.from(good);
    loop.writeUInt16BE(3, 0);
    loop.writeUInt16BE(0xc00c, 12); // the zone name points at itself
    const cut = Buffer.from(good.subarray(0, good.length - 3));
    cut.writeUInt16BE(4, 0);
    for (const m of [chaos, loop, cut]) await send(m);
    await new Promise((r) => setTimeout(r, 300));
    expect(replies.get(2)).toBe(1); // FORMERR: a prerequisite of class CH
    for (const id of [3, 4]) expect([undefined, 1]).toContain(replies.get(id));
    expect(await a('bad.home.arpa')).toEqual([]);

    replies.clear();
    const N = 10_000;
    for (let i = 0; i < N; i += 500) {
      const batch: Promise<void>[] = [];
      for (let j = i; j < i + 500; j++) {
        const name = `burst${j}.home.arpa`;
        // two records of one RRset per message: a half-applied message would show one
        batch.push(send(buildUpdate(j, 'home.arpa', [], [
          rr(name, RRType.A, CLASS_IN, 60, `10.1.${j >> 8}.${j & 255}`), rr(name, RRType.A, CLASS_IN, 60, `10.2.${j >> 8}.${j & 255}`),
        ])));
      }
      await Promise.all(batch);
    }
    // until the answers stop coming (at least 1.5 s, at most 10 s)
    for (let last = -1, end = Date.now() + 10_000; Date.now() < end && replies.size !== last;) {
      last = replies.size;
      await new Promise((r) => setTimeout(r, 1500));
    }
    sock.close();
    const ok = [...replies].filter(([, rc]) => rc === 0).length;
    expect(ok).toBeGreaterThan(N / 2); // some may be dropped by the socket buffer: that is allowed
    expect([...replies.values()].every((rc) => rc === 0)).toBe(true);
    const zone = await xfr(port, key, 'home.arpa', 'AXFR');
    const count = new Map<string, number>();
    for (const r of zone) if (r.name.startsWith('burst') && r.type === 'A') count.set(r.name, (count.get(r.name) ?? 0) + 1);
    expect([...count.values()].every((n) => n === 2)).toBe(true);
    for (const [id] of replies) expect(count.get(`burst${id}.home.arpa.`)).toBe(2);
    expect(await a('nas.home.arpa')).toEqual(['192.168.50.5']); // still serving
  }, 60_000);

  it('keeps every acknowledged update across kill -9', async () => {
    const r = await nsupdate(port, ['zone home.arpa', 'update add kept.home.arpa 600 A 192.168.50.130'], key);
    expect(r.ok, r.out).toBe(true);
    edge.signal('SIGKILL');
    await edge.stop();
    edge = await EdgednsProcess.start(config, { configDir: dir });
    expect(await a('kept.home.arpa')).toEqual(['192.168.50.130']);
    expect(await a('scanner.home.arpa')).toEqual(['192.168.50.101']);
  }, 20_000);
});
