import { describe, expect, it } from 'vitest';
import { parseEdgeConfig as parseConfig } from '../app/sections.js';
import { parseQuery } from '../dns/query.js';
import { decode, makeQuery } from '../../test/helpers/packets.js';
import { reverseName } from '../dns/reverse.js';
import { renderReply } from '../dns/reply.js';
import { LocalZone } from './local-zone.js';
import { ZoneLayers } from './zone-layers.js';

const config = parseConfig(`
zone:
  domain: home.arpa
  ttl: 300
  records:
    - { name: gw, type: A, value: 10.0.0.1 }
    - { name: nas, type: AAAA, value: "fd00::10" }
    - { name: www, type: CNAME, value: gw.home.arpa. }
    - { name: loop1, type: CNAME, value: loop2.home.arpa. }
    - { name: loop2, type: CNAME, value: loop1.home.arpa. }
    - { name: ext, type: CNAME, value: example.com. }
    - { name: "@", type: TXT, value: "hello" }
    - { name: "@", type: MX, value: "10 gw.home.arpa." }
    - { name: _ipp._tcp, type: SRV, value: "0 0 631 printer.home.arpa." }
  reverse: [10.0.0.0/24, "fd00::/64"]
upstreams: [udp://127.0.0.1:53]
`, 'test.yaml');

function ask(zone: LocalZone, name: string, type = 'A') {
  const query = makeQuery(name, type);
  const q = parseQuery(query);
  const apex = [...zone.apexes].sort((a, b) => b.wire.length - a.wire.length).find((a) => q.name.endsWith(a.wire))!;
  const body = zone.answer(apex, q, query);
  return body === null ? null : decode(body);
}

describe('LocalZone', () => {
  const zone = new LocalZone(config.zone);

  it('answers records with authority', () => {
    const r = ask(zone, 'gw.home.arpa')!;
    expect(r.flags! & 0x400).toBeTruthy();
    expect(r.answers!.map((a) => a.data)).toEqual(['10.0.0.1']);
    expect(ask(zone, 'nas.home.arpa', 'AAAA')!.answers![0].data).toBe('fd00::10');
    expect(ask(zone, 'home.arpa', 'MX')!.answers![0].data).toEqual({ preference: 10, exchange: 'gw.home.arpa' });
    expect(ask(zone, '_ipp._tcp.home.arpa', 'SRV')!.answers![0].data).toMatchObject({ port: 631, target: 'printer.home.arpa' });
  });

  it('serves SOA and NS at the apex', () => {
    expect(ask(zone, 'home.arpa', 'SOA')!.answers![0].type).toBe('SOA');
    expect(ask(zone, 'home.arpa', 'NS')!.answers![0].data).toBe('gw.home.arpa');
  });

  it('NXDOMAIN for unknown names, NODATA for unknown types, both with the SOA', () => {
    const nx = ask(zone, 'nope.home.arpa')!;
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.authorities![0].type).toBe('SOA');
    expect(nx.authorities![0].ttl).toBe(30);
    const nodata = ask(zone, 'gw.home.arpa', 'AAAA')!;
    expect(nodata.rcode).toBe('NOERROR');
    expect(nodata.answers).toHaveLength(0);
    expect(nodata.authorities![0].type).toBe('SOA');
  });

  it('treats empty non-terminals as existing (NODATA, not NXDOMAIN)', () => {
    expect(ask(zone, '_tcp.home.arpa', 'A')!.rcode).toBe('NOERROR');
  });

  it('chases CNAMEs inside the zone, stops at the zone edge and on loops', () => {
    const r = ask(zone, 'www.home.arpa')!;
    expect(r.answers!.map((a) => a.type)).toEqual(['CNAME', 'A']);
    const ext = ask(zone, 'ext.home.arpa')!;
    expect(ext.answers!.map((a) => a.data)).toEqual(['example.com']);
    const loop = ask(zone, 'loop1.home.arpa')!;
    expect(loop.answers!.length).toBeLessThanOrEqual(9);
  });

  it('answers PTR for addresses inside reverse prefixes, NXDOMAIN for the rest there', () => {
    expect(ask(zone, '1.0.0.10.in-addr.arpa', 'PTR')!.answers![0].data).toBe('gw.home.arpa');
    const v6 = ask(zone, reverseName('fd00::10'), 'PTR')!;
    expect(v6.answers![0].data).toBe('nas.home.arpa');
    expect(ask(zone, '99.0.0.10.in-addr.arpa', 'PTR')!.rcode).toBe('NXDOMAIN');
  });

  it('declines reverse names under the apex but outside the prefix', () => {
    const z = new LocalZone({ ...config.zone, reverse: ['10.0.16.0/20'] });
    expect(ask(z, '5.17.0.10.in-addr.arpa', 'PTR')).not.toBeNull();
    expect(ask(z, '5.99.0.10.in-addr.arpa', 'PTR')).toBeNull();
  });

  it('serves layer records (leases) beside static ones, static winning per name and type', () => {
    const layers = new ZoneLayers();
    const z = new LocalZone(config.zone, layers);
    layers.set('kea4', 'gw.home.arpa', 'A', [{ name: 'gw.home.arpa', type: 'A', ttl: 300, value: '10.0.0.99', origin: 'kea4' }]);
    layers.set('kea4', 'tv.home.arpa', 'A', [{ name: 'tv.home.arpa', type: 'A', ttl: 300, value: '10.0.0.60', origin: 'kea4', expires: Date.now() / 1000 + 42 }]);
    layers.set('kea6', 'tv.home.arpa', 'AAAA', [{ name: 'tv.home.arpa', type: 'AAAA', ttl: 300, value: 'fd00::60', origin: 'kea6' }]);
    expect(ask(z, 'gw.home.arpa')!.answers!.map((a) => a.data)).toEqual(['10.0.0.1']);
    const tv = ask(z, 'tv.home.arpa')!.answers![0];
    expect(tv.data).toBe('10.0.0.60');
    expect(tv.ttl).toBeLessThanOrEqual(42); // never past the lease's end
    expect(ask(z, 'tv.home.arpa', 'AAAA')!.answers![0].data).toBe('fd00::60');
    layers.set('kea4', 'tv.home.arpa', 'A', []);
    expect(ask(z, 'tv.home.arpa')!.rcode).toBe('NOERROR'); // AAAA still there: NODATA
    layers.set('kea6', 'tv.home.arpa', 'AAAA', []);
    expect(ask(z, 'tv.home.arpa')!.rcode).toBe('NXDOMAIN');
  });

  it('settles one name claimed by two sources (a lease, an update) by the conflict rule', () => {
    const layers = new ZoneLayers();
    const z = new LocalZone(config.zone, layers);
    const rec = (origin: string, value: string) => [{ name: 'cam.home.arpa', type: 'A' as const, ttl: 60, value, origin }];
    const served = () => (z.lookup('cam.home.arpa')?.get('A') ?? []).map((r) => r.value).sort();
    layers.set('kea4', 'cam.home.arpa', 'A', rec('kea4', '10.0.0.50'));
    layers.set('ddns', 'cam.home.arpa', 'A', rec('ddns', '10.0.0.60'));
    expect(served()).toEqual(['10.0.0.60']); // newest (the default): the update came last
    layers.set('kea4', 'cam.home.arpa', 'A', rec('kea4', '10.0.0.50')); // the lease renewed
    expect(served()).toEqual(['10.0.0.50']);
    layers.conflict = 'first';
    expect(served()).toEqual(['10.0.0.50']);
    layers.set('kea4', 'cam.home.arpa', 'A', []);
    layers.set('kea4', 'cam.home.arpa', 'A', rec('kea4', '10.0.0.50')); // a new claim: now the later one
    expect(served()).toEqual(['10.0.0.60']);
    layers.conflict = 'static-wins-only';
    expect(served()).toEqual(['10.0.0.50', '10.0.0.60']);
    layers.set('ddns', 'gw.home.arpa', 'A', [{ name: 'gw.home.arpa', type: 'A', ttl: 60, value: '10.0.0.99', origin: 'ddns' }]);
    expect(z.lookup('gw.home.arpa')?.get('A')?.map((r) => r.value)).toEqual(['10.0.0.1']); // static always wins
  });
  it('renders an answer once and serves it until what it says changes', () => {
    const layers = new ZoneLayers();
    const z = new LocalZone(config.zone, layers);
    const served = (name: string, type = 'A') => {
      const query = makeQuery(name, type);
      const q = parseQuery(query);
      const apex = [...z.apexes].sort((a, b) => b.wire.length - a.wire.length).find((a) => q.name.endsWith(a.wire))!;
      const packed = z.rendered(apex, q, query);
      return packed ? decode(renderReply(packed, q, query, 1232, 0, -1, 0)) : packed;
    };
    expect(served('gw.home.arpa')!.answers!.map((a) => a.data)).toEqual(['10.0.0.1']);
    expect(served('GW.Home.Arpa')!.questions![0].name).toBe('GW.Home.Arpa'); // the client's case, from a stored answer
    expect(served('tv.home.arpa')!.rcode).toBe('NXDOMAIN');
    layers.set('kea4', 'tv.home.arpa', 'A', [{ name: 'tv.home.arpa', type: 'A', ttl: 300, value: '10.0.0.60', origin: 'kea4', expires: Date.now() / 1000 + 3600 }]);
    expect(served('tv.home.arpa')!.answers!.map((a) => a.data)).toEqual(['10.0.0.60']);
    expect(served('tv.home.arpa')!.answers![0].ttl).toBe(300);
    layers.set('kea4', 'tv.home.arpa', 'A', [{ name: 'tv.home.arpa', type: 'A', ttl: 300, value: '10.0.0.61', origin: 'kea4', expires: Date.now() / 1000 + 3600 }]);
    expect(served('tv.home.arpa')!.answers!.map((a) => a.data)).toEqual(['10.0.0.61']); // only that name re-rendered
    // An empty non-terminal appears below a name that did not exist: NXDOMAIN becomes NODATA.
    expect(served('wg.home.arpa')!.rcode).toBe('NXDOMAIN');
    layers.set('wireguard', 'phone.wg.home.arpa', 'A', [{ name: 'phone.wg.home.arpa', type: 'A', ttl: 60, value: '10.0.9.2', origin: 'wireguard' }]);
    expect(served('wg.home.arpa')!.rcode).toBe('NOERROR');
    // A lease near its end: the TTL counts down with it, re-rendered as it does.
    layers.set('kea4', 'old.home.arpa', 'A', [{ name: 'old.home.arpa', type: 'A', ttl: 300, value: '10.0.0.62', origin: 'kea4', expires: Date.now() / 1000 + 0.5 }]);
    expect(served('old.home.arpa')!.answers![0].ttl).toBe(1);
    // The SOA carries the serial: a negative answer made before a serial change is not reused.
    const before = served('nothere.home.arpa')!.authorities![0].data as { serial: number };
    layers.serial++;
    expect((served('nothere.home.arpa')!.authorities![0].data as { serial: number }).serial).toBe(before.serial + 1);
  });
});
