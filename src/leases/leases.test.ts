import { mkdtempSync, renameSync, writeFileSync, appendFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseEdgeConfig as parseConfig } from '../app/sections.js';
import { decode, makeQuery } from '../../test/helpers/packets.js';
import { parseQuery } from '../dns/query.js';
import { reverseName } from '../dns/reverse.js';
import { LocalZone } from '../zone/local-zone.js';
import { ZoneLayers } from '../zone/zone-layers.js';
import { zonePort } from '../zone/zone-port.js';
import { leaseLabel } from './hostname.js';
import { parseHeader, parseRow, type Columns, type LeaseRow } from './kea-csv.js';
import { diffTables, LeaseManager } from './lease-manager.js';
import { LeaseNames, type ConflictMode } from './lease-names.js';

const silent = pino({ level: 'silent' });
const H4 = 'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context';
const H6 = 'address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context,hwtype,hwaddr_source';
const NOW = Math.floor(Date.now() / 1000); // record TTLs count down against the wall clock
const row4 = (addr: string, host: string, vl = 20, expire = NOW + 20, state = 0) => `${addr},aa:bb:cc:dd:ee:ff,,${vl},${expire},1,1,1,${host},${state},`;

function setup(conflict: ConflictMode = 'newest', statics = '') {
  const config = parseConfig(`zone:\n  domain: home.arpa\n  records:\n    - { name: gw, type: A, value: 192.168.50.1 }\n${statics}\nupstreams: [udp://127.0.0.1:9]\n`, 't');
  const layers = new ZoneLayers();
  const zone = new LocalZone(config.zone, layers);
  const clock = { t: NOW * 1000, now: () => clock.t };
  const names = new LeaseNames({ family: 4, origin: 'kea4', ttl: 300, conflict }, zonePort(layers, () => zone), clock, silent);
  const ask = (name: string, type = 'A') => {
    const query = makeQuery(name, type);
    const q = parseQuery(query);
    const apex = zone.apexes[0];
    const body = name.endsWith('.arpa') && !name.endsWith('home.arpa') ? zone.answerLayerPtr(q, query) : zone.answer(apex, q, query);
    return body ? decode(body) : null;
  };
  const cols = parseHeader(H4, 4) as Columns;
  const apply = (...lines: string[]) => {
    const changes = new Map<string, LeaseRow | null>();
    for (const l of lines) {
      const r = parseRow(l, cols, 4) as LeaseRow;
      changes.set(r.address, r.validLifetime === 0 ? null : r);
    }
    names.apply(changes);
  };
  return { zone, names, clock, ask, apply };
}

describe('lease hostnames', () => {
  it('follows the documented rules', () => {
    expect(leaseLabel('printer.home.arpa', 'home.arpa')).toBe('printer');
    expect(leaseLabel('nas.home.arpa.', 'home.arpa')).toBe('nas');
    expect(leaseLabel('printer', 'home.arpa')).toBe('printer');
    expect(leaseLabel('My_Laptop', 'home.arpa')).toBe('my-laptop');
    expect(leaseLabel('nas2.other.example.home.arpa.', 'home.arpa')).toBe('nas2');
    expect(leaseLabel('phone.corp.example', 'home.arpa')).toBe('phone');
    expect(leaseLabel('--odd--', 'home.arpa')).toBe('odd');
    expect(leaseLabel('x'.repeat(80), 'home.arpa')).toHaveLength(63);
    expect(leaseLabel('', 'home.arpa')).toBeNull();
    expect(leaseLabel('___', 'home.arpa')).toBeNull();
  });
});

describe('Kea CSV', () => {
  it('reads columns by the header, in any order, ignoring unknown ones', () => {
    const cols = parseHeader('hostname,extra,expire,address,valid_lifetime,state', 4) as Columns;
    expect(parseRow('tv.home.arpa,zzz,1800000020,192.168.50.7,20,0', cols, 4)).toMatchObject({ address: '192.168.50.7', hostname: 'tv.home.arpa', expire: 1800000020 });
  });

  it('rejects a header without required columns, and bad rows with a reason', () => {
    expect(parseHeader('address,hwaddr,expire', 4)).toMatch(/valid_lifetime.*hostname/);
    expect(parseHeader(H4.replace(',lease_type', ''), 6)).toMatch(/lease_type/);
    const cols = parseHeader(H4, 4) as Columns;
    expect(parseRow('192.168.50.300,x,,20,1,1,1,1,h,0,', cols, 4)).toMatch(/bad address/);
    expect(parseRow('192.168.50.3,x,,abc,1,1,1,1,h,0,', cols, 4)).toMatch(/valid_lifetime/);
    expect(parseRow('192.168.50.3,x', cols, 4)).toMatch(/fields/);
    expect(parseRow('192.168.50.3,x,,20,1,1,1,1,a&#x2cb,0,', cols, 4)).toMatchObject({ hostname: 'a,b' });
  });
});

describe('LeaseNames', () => {
  it('serves A and PTR for a live lease, with the TTL bounded by what the lease has left', () => {
    const { ask, apply } = setup();
    apply(row4('192.168.50.100', 'printer.home.arpa'));
    const a = ask('printer.home.arpa')!;
    expect(a.answers![0]).toMatchObject({ data: '192.168.50.100' });
    expect(a.answers![0].ttl).toBeLessThanOrEqual(20);
    expect(a.answers![0].ttl).toBeGreaterThan(0);
    expect(ask(reverseName('192.168.50.100'), 'PTR')!.answers![0].data).toBe('printer.home.arpa');
  });

  it('removes the name on release (valid_lifetime 0), decline/reclaim (state 1, 2) and reassignment', () => {
    const { ask, apply } = setup();
    apply(row4('192.168.50.100', 'a.home.arpa'), row4('192.168.50.101', 'b.home.arpa'), row4('192.168.50.102', 'c.home.arpa'));
    apply(row4('192.168.50.100', 'a.home.arpa', 0, NOW));
    apply(row4('192.168.50.101', '', 20, NOW + 20, 2));
    apply(row4('192.168.50.102', 'd.home.arpa')); // same address, new client
    expect(ask('a.home.arpa')!.rcode).toBe('NXDOMAIN');
    expect(ask(reverseName('192.168.50.100'), 'PTR')).toBeNull();
    expect(ask('b.home.arpa')!.rcode).toBe('NXDOMAIN');
    expect(ask('c.home.arpa')!.rcode).toBe('NXDOMAIN');
    expect(ask('d.home.arpa')!.answers![0].data).toBe('192.168.50.102');
    expect(ask(reverseName('192.168.50.102'), 'PTR')!.answers![0].data).toBe('d.home.arpa');
  });

  it('drops a name when its expire passes, without any new row', () => {
    const { ask, apply, names, clock } = setup();
    apply(row4('192.168.50.100', 'short.home.arpa', 20, NOW + 5));
    expect(names.nextExpiry()).toBe(NOW + 5);
    clock.t += 6000;
    expect(names.expireDue()).toBe(1);
    expect(ask('short.home.arpa')!.rcode).toBe('NXDOMAIN');
  });

  it('gives a contested name to the newest lease (conflict: newest), the other gets no PTR', () => {
    const { ask, apply, names } = setup('newest');
    apply(row4('192.168.50.100', 'dup.home.arpa', 20, NOW + 10)); // cltt NOW-10
    apply(row4('192.168.50.101', 'dup.home.arpa', 20, NOW + 15)); // cltt NOW-5: newer
    expect(ask('dup.home.arpa')!.answers!.map((a) => a.data)).toEqual(['192.168.50.101']);
    expect(ask(reverseName('192.168.50.100'), 'PTR')).toBeNull();
    expect(names.stats.conflicts).toBeGreaterThan(0);
    apply(row4('192.168.50.101', 'dup.home.arpa', 0, NOW)); // the winner leaves: the other gets it
    expect(ask('dup.home.arpa')!.answers!.map((a) => a.data)).toEqual(['192.168.50.100']);
    expect(ask(reverseName('192.168.50.100'), 'PTR')!.answers![0].data).toBe('dup.home.arpa');
  });

  it('keeps the first claimant (conflict: first), or serves all (static-wins-only)', () => {
    const first = setup('first');
    first.apply(row4('192.168.50.100', 'dup.home.arpa', 20, NOW + 10), row4('192.168.50.101', 'dup.home.arpa', 20, NOW + 15));
    expect(first.ask('dup.home.arpa')!.answers!.map((a) => a.data)).toEqual(['192.168.50.100']);
    const all = setup('static-wins-only');
    all.apply(row4('192.168.50.100', 'dup.home.arpa'), row4('192.168.50.101', 'dup.home.arpa'));
    expect(all.ask('dup.home.arpa')!.answers!.map((a) => a.data).sort()).toEqual(['192.168.50.100', '192.168.50.101']);
  });

  it('lets a static record win over a lease', () => {
    const { ask, apply, names } = setup();
    apply(row4('192.168.50.100', 'gw'));
    expect(ask('gw.home.arpa')!.answers!.map((a) => a.data)).toEqual(['192.168.50.1']);
    expect(ask(reverseName('192.168.50.100'), 'PTR')).toBeNull();
    expect(names.stats.staticConflicts).toBe(1);
    expect(names.list()[0]).toMatchObject({ name: 'gw.home.arpa', state: 'static-wins' });
  });

  it('diffs full tables so unchanged names are left alone', () => {
    const cols = parseHeader(H4, 4) as Columns;
    const r = (l: string) => parseRow(l, cols, 4) as LeaseRow;
    const before = new Map([['192.168.50.1', r(row4('192.168.50.1', 'a'))], ['192.168.50.2', r(row4('192.168.50.2', 'b'))]]);
    const after = new Map([['192.168.50.1', r(row4('192.168.50.1', 'a'))], ['192.168.50.3', r(row4('192.168.50.3', 'c'))]]);
    expect([...diffTables(before, after)].map(([k, v]) => [k, v === null])).toEqual([['192.168.50.3', false], ['192.168.50.2', true]]);
  });
});

describe('LeaseManager reading real files', () => {
  const until = async (f: () => boolean, ms = 3000) => {
    const end = Date.now() + ms;
    while (!f() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return f();
  };

  it('replays .2, .1 and the live file in order, follows appends and partial lines, and survives LFC rotation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-leases-'));
    const live = join(dir, 'leases4.csv');
    const now = Math.floor(Date.now() / 1000);
    const r = (a: string, h: string, vl = 3600) => `${row4(a, h, vl, now + 3600)}\n`;
    writeFileSync(`${live}.2`, `${H4}\n${r('10.0.0.1', 'old')}${r('10.0.0.2', 'two')}`);
    writeFileSync(`${live}.1`, `${H4}\n${r('10.0.0.1', 'renamed')}`);
    writeFileSync(live, `${H4}\n${r('10.0.0.3', 'three')}bad,row\n`);
    const config = parseConfig('upstreams: [udp://127.0.0.1:9]\n', 't');
    const layers = new ZoneLayers();
    const zone = new LocalZone(config.zone, layers);
    const m = new LeaseManager({ kea4: live, ttl: 300, conflict: 'newest' }, zonePort(layers, () => zone), { now: () => Date.now() }, silent);
    const names = () => m.list().map((l) => l.name).sort();
    m.start();
    try {
      expect(await until(() => names().length === 3)).toBe(true);
      expect(names()).toEqual(['renamed.home.arpa', 'three.home.arpa', 'two.home.arpa']);
      expect(m.stats()[0].source).toMatchObject({ health: 'ok', rowsSkipped: 1 });
      // The LFC that was under way at start finishes: .2 + .1 merged into .2, .1 removed.
      writeFileSync(`${live}.completed`, `${H4}\n${r('10.0.0.1', 'renamed')}${r('10.0.0.2', 'two')}`);
      renameSync(`${live}.completed`, `${live}.2`);
      rmSync(`${live}.1`);
      // An append arriving in two pieces: nothing until the newline.
      appendFileSync(live, r('10.0.0.4', 'four').slice(0, 20));
      await new Promise((res) => setTimeout(res, 100));
      expect(names()).not.toContain('four.home.arpa');
      appendFileSync(live, r('10.0.0.4', 'four').slice(20));
      expect(await until(() => names().includes('four.home.arpa'))).toBe(true);
      // LFC: live → .1 and a fresh live file; then .2 + .1 merged into a new .2 and .1 removed.
      renameSync(live, `${live}.1`);
      writeFileSync(live, `${H4}\n${r('10.0.0.5', 'five')}`);
      expect(await until(() => names().includes('five.home.arpa'))).toBe(true);
      writeFileSync(`${live}.completed`, `${H4}\n${r('10.0.0.1', 'renamed')}${r('10.0.0.2', 'two')}${r('10.0.0.3', 'three')}${r('10.0.0.4', 'four')}`);
      renameSync(`${live}.completed`, `${live}.2`);
      rmSync(`${live}.1`);
      appendFileSync(live, r('10.0.0.2', 'two', 0)); // release of .2 in the new live file
      expect(await until(() => !names().includes('two.home.arpa'))).toBe(true);
      expect(names(), JSON.stringify(m.list())).toEqual(['five.home.arpa', 'four.home.arpa', 'renamed.home.arpa', 'three.home.arpa']);
      // A huge line is skipped and counted; the rows after it still count.
      const skippedBefore = m.stats()[0].source.rowsSkipped;
      appendFileSync(live, `${'x'.repeat(70_000)}\n${r('10.0.0.6', 'six')}`);
      expect(await until(() => names().includes('six.home.arpa'))).toBe(true);
      expect(m.stats()[0].source.rowsSkipped).toBe(skippedBefore + 1);
      appendFileSync(live, r('10.0.0.6', 'six', 0));
      expect(await until(() => !names().includes('six.home.arpa'))).toBe(true);
      // A failed read (the file replaced by a folder) keeps every name.
      rmSync(live);
      mkdirSync(live);
      await new Promise((res) => setTimeout(res, 300));
      expect(names()).toHaveLength(4);
    } finally {
      m.close(false);
    }
  });
});
