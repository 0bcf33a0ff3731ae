/**
 * RFC conformance of what edgedns answers, item by item: header bits (RA, CD, AD), classes, ANY,
 * truncation, RD=0, other opcodes, zone transfers, TSIG, CNAMEs out of the local zone and DNS
 * Cookies. Real peers: Knot DNS authoritative for zones it signs itself (with mod-cookies), a
 * validating Unbound in front of it, dig and kdig as clients, raw packets where dig cannot say it.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminGet } from './helpers/admin-socket.js';
import { DnsFixture, SPOOFED_ADDRESS } from './helpers/dns-fixture.js';
import { dig, kdig } from './helpers/dig.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { Knot } from './helpers/knot.js';
import { makeQuery } from './helpers/packets.js';
import { freePort } from './helpers/ports.js';
import { TcpClient, frameOf, udpExchange } from './helpers/raw-client.js';
import { missing } from './helpers/system.js';
import { Unbound } from './helpers/unbound.js';

const skip = missing('knotd', 'unbound', 'dig', 'kdig');

const AUTH = [
  'www A 192.0.2.10', 'www AAAA 2001:db8::10', 'www TXT "hello"', 'www2 A 192.0.2.11', 'alias CNAME www',
  'mx MX 10 mail1', 'mx MX 20 mail2', 'mx MX 30 mail3',
  ...[1, 2, 3].flatMap((i) => [`mail${i} A 192.0.2.2${i}`, `mail${i} AAAA 2001:db8::2${i}`]),
  'b.c A 192.0.2.30', 'sub NS ns.sub', 'ns.sub A 192.0.2.40',
];

/** A query with full control of the header: opcode, RD, counts; OPT (with options) optional. */
function rawQuery(opts: { opcode?: number; rd?: boolean; name?: string | null; type?: number; qclass?: number; opt?: boolean; cookie?: Buffer }): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(0x4242, 0);
  header[2] = ((opts.opcode ?? 0) << 3) | (opts.rd === false ? 0 : 1);
  if (opts.name !== null) {
    header.writeUInt16BE(1, 4);
    const labels = (opts.name ?? 'gw.home.arpa').split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
    const tail = Buffer.alloc(5);
    tail.writeUInt16BE(opts.type ?? 1, 1);
    tail.writeUInt16BE(opts.qclass ?? 1, 3);
    parts.push(...labels, tail);
  }
  if (opts.opt || opts.cookie) {
    header.writeUInt16BE(1, 10);
    const optData = opts.cookie ? Buffer.concat([Buffer.from([0, 10, 0, opts.cookie.length]), opts.cookie]) : Buffer.alloc(0);
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(41, 1);
    opt.writeUInt16BE(1232, 3);
    opt.writeUInt16BE(optData.length, 9);
    parts.push(opt, optData);
  }
  return Buffer.concat([header, ...parts]);
}

/** The reply's COOKIE option data, or null. */
function cookieOf(reply: Buffer): Buffer | null {
  const d = dnsPacket.decode(reply);
  const opt = d.additionals?.find((a) => a.type === 'OPT') as { options?: Array<{ code: number; data: Buffer }> } | undefined;
  return opt?.options?.find((o) => o.code === 10)?.data ?? null;
}

function hasOpt(reply: Buffer): boolean {
  return (dnsPacket.decode(reply).additionals ?? []).some((a) => a.type === 'OPT');
}

/** Header rcode plus the OPT's extended bits. */
function fullRcode(reply: Buffer): number {
  const d = dnsPacket.decode(reply) as unknown as { additionals?: Array<{ type: string; extendedRcode?: number }> };
  const ext = d.additionals?.find((a) => a.type === 'OPT')?.extendedRcode ?? 0;
  return (ext << 4) | (reply[3] & 0x0f);
}

describe.skipIf(skip)('RFC conformance against Knot, a validating Unbound, dig and kdig', () => {
  let knot: Knot;
  let validator: Unbound;
  let spoofer: DnsFixture;
  let edge: EdgednsProcess;
  let strict: EdgednsProcess;
  let port: number;
  let strictPort: number;
  let secret: string;
  let socket: string;
  const q = (...args: string[]) => dig(['@127.0.0.1', '-p', String(port), ...args]);

  beforeAll(async () => {
    knot = await Knot.start([{ name: 'auth.example', records: AUTH }, { name: 'secure.example', records: ['www A 192.0.2.50'] }]);
    [validator, spoofer] = await Promise.all([
      Unbound.start({
        data: [], moduleConfig: 'validator iterator',
        extra: [`trust-anchor: "${await knot.trustAnchor('secure.example')}"`],
        clauses: ['stub-zone:', '  name: "secure.example."', `  stub-addr: 127.0.0.1@${knot.port}`],
      }),
      // Knot, NSD and Unbound all answer ANY minimally already; this peer answers with every RRset.
      DnsFixture.start({
        answers: { 'www.spoof.example': ['192.0.2.70', 300] }, cookieSpoofFirst: true,
        anyAnswers: { 'www.multi.example': [{ type: 'A', data: '192.0.2.60' }, { type: 'AAAA', data: '2001:db8::60' }, { type: 'TXT', data: 'many' }] },
      }),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-conformance-'));
    secret = randomBytes(32).toString('base64');
    writeFileSync(join(dir, 'edge-key.tsig'), `${secret}\n`);
    chmodSync(join(dir, 'edge-key.tsig'), 0o600);
    socket = join(dir, 'admin.sock');
    [port, strictPort] = await Promise.all([freePort(), freePort()]);
    const common = `
zone:
  domain: home.arpa
  records:
    - { name: gw, type: A, value: 10.0.0.1 }
    - { name: nas, type: CNAME, value: www.auth.example. }
    - { name: gone, type: CNAME, value: nothing.auth.example. }
upstreams: [${validator.url}]
forward:
  - { domain: auth.example, upstreams: [${knot.url}] }
  - { domain: multi.example, upstreams: [${spoofer.url}] }
  - { domain: spoof.example, upstreams: [${spoofer.url}] }
ddns:
  keys: [{ name: edge-key, algorithm: hmac-sha256, secret-file: ${join(dir, 'edge-key.tsig')} }]
`;
    [edge, strict] = await Promise.all([
      EdgednsProcess.start(`listen: [{ address: 127.0.0.1, port: ${port} }]\n${common}\nadmin: { socket: ${socket} }\n`),
      EdgednsProcess.start(`listen: [{ address: 127.0.0.1, port: ${strictPort} }]\n${common}\ncookies: { require: true }\n`),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([edge?.stop(), strict?.stop(), knot?.stop(), validator?.stop(), spoofer?.close()]);
  });

  it('1. sets RA on every answer, also behind an authoritative upstream that clears it', async () => {
    const direct = await dig(['@127.0.0.1', '-p', String(knot.port), '+tcp', 'www.auth.example']);
    expect(direct.flags).not.toContain('ra'); // the upstream is authoritative: RA=0
    for (const r of [await q('www.auth.example'), await q('gw.home.arpa'), await q('nothing.home.arpa'), await q('-c', 'CH', 'gw.home.arpa')]) {
      expect(r.flags).toContain('ra');
    }
    expect((await q('www.auth.example')).raw).not.toContain('recursion requested but not available');
  });

  it('2. copies CD from the query on every path', async () => {
    for (const name of ['www.auth.example', 'gw.home.arpa', 'nothing.home.arpa']) {
      expect((await q('+cdflag', name)).flags).toContain('cd');
      expect((await q('+nocdflag', name)).flags).not.toContain('cd');
    }
  });

  it('3. passes AD from a validating upstream to a client that set AD without DO, and caches the two apart', async () => {
    const plainFirst = await q('+noadflag', 'www.secure.example');
    expect(plainFirst.status).toBe('NOERROR');
    expect(plainFirst.flags).not.toContain('ad');
    expect((await q('+adflag', 'www.secure.example')).flags).toContain('ad');
    expect((await q('+noadflag', 'www.secure.example')).flags).not.toContain('ad');
    expect((await q('+noadflag', '+dnssec', 'www.secure.example')).flags).toContain('ad');
    // never AD for data that is not validated: the local zone, or unsigned upstream data
    expect((await q('+adflag', 'gw.home.arpa')).flags).not.toContain('ad');
  });

  it('4. answers class IN only from the local and special zones: CH, HS and ANY are REFUSED without AA', async () => {
    for (const cls of ['CH', 'HS', 'ANY']) {
      for (const name of ['gw.home.arpa', 'x.test']) {
        const r = await q('-c', cls, name, 'A');
        expect(r.status).toBe('REFUSED');
        expect(r.flags).not.toContain('aa');
        expect(r.raw).not.toContain('malformed');
      }
    }
  });

  it('5. ANY (RFC 8482): one real RRset with its RRSIG, NXDOMAIN for names that do not exist, the CNAME at a CNAME owner', async () => {
    const any = await q('+dnssec', 'www.auth.example', 'ANY');
    const types = new Set(any.answer.filter((a) => a.type !== 'RRSIG').map((a) => a.type));
    expect(types.size).toBe(1);
    expect(any.answer.some((a) => a.type === 'RRSIG' && a.data.startsWith(`${[...types][0]} `))).toBe(true);
    expect(any.answer.map((a) => a.type)).not.toContain('HINFO');

    const nx = await q('+dnssec', 'nothing.auth.example', 'ANY');
    expect(nx.status).toBe('NXDOMAIN');
    expect(nx.authority.map((a) => a.type)).toEqual(expect.arrayContaining(['SOA', 'NSEC', 'RRSIG']));

    const cname = await q('alias.auth.example', 'ANY');
    expect(cname.answer.map((a) => a.type)).toEqual(['CNAME']);

    const ent = await q('c.auth.example', 'ANY');
    expect(ent.status).toBe('NOERROR');
    expect(ent.answer).toHaveLength(0);
    expect(ent.authority.map((a) => a.type)).toContain('SOA');

    const delegation = await q('sub.auth.example', 'ANY');
    expect(delegation.answer.map((a) => a.type)).not.toContain('HINFO');

    // an upstream that answers ANY with every RRset is cut to one
    const many = await q('www.multi.example', 'ANY');
    expect(new Set(many.answer.map((a) => a.type)).size).toBe(1);
    expect(many.answer.length).toBeGreaterThan(0);
  });

  it('6. truncates only when the answer does not fit: an MX answer with DO=1 at bufsize 512 keeps its answer', async () => {
    const full = await q('+dnssec', '+bufsize=1232', 'mx.auth.example', 'MX');
    expect(full.raw).toMatch(/ADDITIONAL: (\d{2,})/); // glue and its signatures: more than 512 bytes in all
    const small = await q('+dnssec', '+bufsize=512', '+ignore', 'mx.auth.example', 'MX');
    expect(small.flags).not.toContain('tc');
    expect(small.answer.filter((a) => a.type === 'MX')).toHaveLength(3);
    expect(small.answer.some((a) => a.type === 'RRSIG')).toBe(true);
    const raw = await udpExchange(port, makeQuery('mx.auth.example', 'MX', { edns: 512, dnssecOk: true }));
    expect(raw!.length).toBeLessThanOrEqual(512);
  });

  it('7. RD=0: answered from the local zone and the cache, a miss is REFUSED', async () => {
    expect((await q('+norecurse', 'www2.auth.example')).status).toBe('REFUSED');
    expect((await q('www2.auth.example')).status).toBe('NOERROR');
    const cached = await q('+norecurse', 'www2.auth.example');
    expect(cached.status).toBe('NOERROR');
    expect(cached.answer.map((a) => a.data)).toEqual(['192.0.2.11']);
    const local = await q('+norecurse', 'gw.home.arpa');
    expect(local.status).toBe('NOERROR');
    expect(local.flags).toContain('aa');
  });

  it('8. other opcodes: NOTIFY is REFUSED, UPDATE, STATUS and unknown ones NOTIMP; OPT and RD echoed', async () => {
    const cases: Array<[number, number, string | null]> = [[4, 5, 'home.arpa'], [5, 4, 'home.arpa'], [2, 4, null], [15, 4, 'gw.home.arpa']];
    for (const [opcode, rcode, name] of cases) {
      for (const rd of [true, false]) {
        for (const opt of [true, false]) {
          const reply = (await udpExchange(port, rawQuery({ opcode, rd, name, type: 6, opt })))!;
          expect(reply, `opcode ${opcode}`).not.toBeNull();
          expect(reply[3] & 0x0f).toBe(rcode);
          expect((reply[2] >> 3) & 0x0f).toBe(opcode);
          expect(reply[2] & 0x01).toBe(rd ? 1 : 0);
          expect(hasOpt(reply)).toBe(opt);
        }
      }
    }
  });

  it('9. zone transfers: AXFR over UDP is FORMERR, IXFR over UDP and both over TCP are REFUSED', async () => {
    const udpAxfr = (await udpExchange(port, rawQuery({ name: 'home.arpa', type: 252 })))!;
    expect(udpAxfr[3] & 0x0f).toBe(1);
    const udpIxfr = (await udpExchange(port, rawQuery({ name: 'home.arpa', type: 251 })))!;
    expect(udpIxfr[3] & 0x0f).toBe(5);
    const tcp = await TcpClient.connect(port);
    tcp.sock.write(frameOf(rawQuery({ name: 'home.arpa', type: 252 })));
    const [reply] = await tcp.waitFor(1);
    tcp.sock.destroy();
    expect(reply[3] & 0x0f).toBe(5);
    expect(reply.readUInt16BE(6)).toBe(0);
    const axfr = await q('axfr', 'home.arpa');
    expect(axfr.raw).toMatch(/Transfer failed/);
  });

  it('10. TSIG: a known key gets a signed answer that dig and kdig verify; an unknown key BADKEY, a wrong secret BADSIG', async () => {
    for (const name of ['gw.home.arpa', 'www.auth.example']) {
      const signed = await q('-y', `hmac-sha256:edge-key:${secret}`, name);
      expect(signed.status).toBe('NOERROR');
      expect(signed.raw).toMatch(/TSIG PSEUDOSECTION:\nedge-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ NOERROR/);
      expect(signed.raw).not.toMatch(/Couldn't verify|could not be validated/);
      const k = await kdig(['@127.0.0.1', '-p', String(port), '-y', `hmac-sha256:edge-key:${secret}`, name]);
      expect(k.raw).toMatch(/TSIG PSEUDOSECTION/);
      expect(k.raw).not.toMatch(/WARNING|failed/i);
    }
    const unknown = await q('-y', `hmac-sha256:stranger:${secret}`, 'gw.home.arpa');
    expect(unknown.status).toBe('NOTAUTH');
    expect(unknown.raw).toMatch(/TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY/);
    const wrong = await q('-y', `hmac-sha256:edge-key:${randomBytes(32).toString('base64')}`, 'gw.home.arpa');
    expect(wrong.status).toBe('NOTAUTH');
    expect(wrong.raw).toMatch(/BADSIG/);
    expect(wrong.answer).toHaveLength(0);
  });

  it('11. a local CNAME out of the zone is answered with its target, resolved through the forwarder', async () => {
    const r = await q('nas.home.arpa', 'A');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(r.answer.map((a) => [a.type, a.data])).toEqual([['CNAME', 'www.auth.example.'], ['A', '192.0.2.10']]);
    const six = await q('nas.home.arpa', 'AAAA');
    expect(six.answer.map((a) => a.type)).toEqual(['CNAME', 'AAAA']);
    const gone = await q('gone.home.arpa', 'A');
    expect(gone.status).toBe('NXDOMAIN');
    expect(gone.answer.map((a) => a.type)).toEqual(['CNAME']);
    expect(gone.authority.map((a) => a.type)).toContain('SOA');
    expect((await q('nas.home.arpa', 'CNAME')).answer.map((a) => a.type)).toEqual(['CNAME']);
  });

  it('12a. DNS Cookies to clients: a server cookie in RFC 9018 form, kept valid, re-issued when forged; FORMERR for a malformed one', async () => {
    const client = randomBytes(8);
    const first = (await udpExchange(port, rawQuery({ cookie: client })))!;
    expect(first[3] & 0x0f).toBe(0);
    const cookie = cookieOf(first)!;
    expect(cookie).toHaveLength(24);
    expect(cookie.subarray(0, 8).equals(client)).toBe(true);
    expect(cookie[8]).toBe(1); // version
    expect(Math.abs(cookie.readUInt32BE(12) - Date.now() / 1000)).toBeLessThan(5);
    const again = (await udpExchange(port, rawQuery({ cookie })))!;
    expect(cookieOf(again)!.equals(cookie)).toBe(true);
    const forged = Buffer.from(cookie);
    forged[23] ^= 0xff;
    const reissued = (await udpExchange(port, rawQuery({ cookie: forged })))!;
    expect(reissued[3] & 0x0f).toBe(0); // no cookies.require: answered, with a good cookie
    expect(cookieOf(reissued)!.subarray(16).equals(forged.subarray(16))).toBe(false);
    const malformed = (await udpExchange(port, rawQuery({ cookie: randomBytes(5) })))!;
    expect(malformed[3] & 0x0f).toBe(1);
    expect((await q('+cookie', 'gw.home.arpa')).raw).toMatch(/COOKIE: [0-9a-f]{48} \(good\)/);
    expect((await udpExchange(port, rawQuery({ opt: true })))![3] & 0x0f).toBe(0); // no cookie, no change
  });

  it('12b. cookies.require: BADCOOKIE over UDP without a valid server cookie, then the retry is answered', async () => {
    const client = randomBytes(8);
    const bad = (await udpExchange(strictPort, rawQuery({ cookie: client })))!;
    expect(fullRcode(bad)).toBe(23);
    const cookie = cookieOf(bad)!;
    expect(cookie).toHaveLength(24);
    const good = (await udpExchange(strictPort, rawQuery({ cookie })))!;
    expect(fullRcode(good)).toBe(0);
    expect(dnsPacket.decode(good).answers?.[0]).toMatchObject({ type: 'A', data: '10.0.0.1' });
    // clients without cookies, and TCP, are never refused for it
    expect((await udpExchange(strictPort, rawQuery({ opt: true })))![3] & 0x0f).toBe(0);
    expect((await dig(['@127.0.0.1', '-p', String(strictPort), '+tcp', '+cookie', 'gw.home.arpa'])).status).toBe('NOERROR');
    expect((await dig(['@127.0.0.1', '-p', String(strictPort), '+cookie', 'gw.home.arpa'])).status).toBe('NOERROR'); // dig retries on BADCOOKIE
  });

  it('12c. client cookies to upstreams: Knot\'s server cookie is learned, and a reply with a forged cookie is ignored', async () => {
    expect((await q('www.auth.example')).status).toBe('NOERROR');
    const r = await q('www.spoof.example');
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.70']);
    expect(r.raw).not.toContain(SPOOFED_ADDRESS);
    const { upstreams } = await adminGet(socket, '/upstreams');
    const byUrl = new Map((upstreams as Array<{ url: string; cookies?: { server: boolean; rejected: number } }>).map((u) => [u.url, u]));
    expect(byUrl.get(knot.url)!.cookies!.server).toBe(true);
    expect(byUrl.get(spoofer.url)!.cookies!.rejected).toBeGreaterThanOrEqual(1);
  });
});
