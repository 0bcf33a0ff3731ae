/** Each probe against real peers on loopback: an answer counts, silence and refusal do not. */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsFixture } from '../../../test/helpers/dns-fixture.js';
import { freePort } from '../../../test/helpers/ports.js';
import type { ProbeSpec } from '../uplink-model.js';
import { dnsProbe } from './dns-probe.js';
import { httpProbe, closeHttpProbes } from './http-probe.js';
import { tcpProbe } from './tcp-probe.js';

const spec = (type: ProbeSpec['type'], target: string): ProbeSpec => ({ type, target, intervalMs: 1000, timeoutMs: 300 });
const ctx = { source: '127.0.0.1', iface: 'lo' };

describe('probes on loopback', () => {
  let dns: DnsFixture;
  let silent: DnsFixture;
  let tcp: net.Server;
  let web: http.Server;
  let tcpPort: number;
  let webPort: number;

  beforeAll(async () => {
    [dns, silent] = await Promise.all([DnsFixture.start(), DnsFixture.start({ silent: true })]);
    tcpPort = await freePort();
    webPort = await freePort();
    tcp = net.createServer((s) => s.end()).listen(tcpPort, '127.0.0.1');
    web = http.createServer((_, res) => { res.writeHead(503); res.end(); }).listen(webPort, '127.0.0.1');
  });
  afterAll(async () => {
    await Promise.all([dns.close(), silent.close(), closeHttpProbes()]);
    tcp.close();
    web.close();
  });

  it('dns: any answer counts, from the uplink source, asking the root NS', async () => {
    const r = await dnsProbe(spec('dns', `127.0.0.1:${dns.port}`), ctx);
    expect(r.ok).toBe(true);
    expect(dns.seen.at(-1)).toMatchObject({ name: '.', type: 'NS', from: '127.0.0.1' });
    expect(await dnsProbe(spec('dns', `127.0.0.1:${silent.port}`), ctx)).toEqual({ ok: false, error: `dns to 127.0.0.1:${silent.port}: timeout after 300 ms` });
  });

  it('dns: no source address on the uplink is a failure that says so', async () => {
    expect(await dnsProbe(spec('dns', `127.0.0.1:${dns.port}`), { source: undefined, iface: 'wan9' }))
      .toEqual({ ok: false, error: `dns to 127.0.0.1:${dns.port}: no source address on wan9` });
  });

  it('tcp: a completed handshake counts, a refusal does not', async () => {
    expect((await tcpProbe(spec('tcp', `127.0.0.1:${tcpPort}`), ctx)).ok).toBe(true);
    const closed = await freePort();
    const r = await tcpProbe(spec('tcp', `127.0.0.1:${closed}`), ctx);
    expect(r).toMatchObject({ ok: false });
    expect((r as { error: string }).error).toContain('ECONNREFUSED');
  });

  it('http: any status counts (the path works), a refused connection does not', async () => {
    expect((await httpProbe(spec('http', `http://127.0.0.1:${webPort}/`), ctx)).ok).toBe(true);
    expect((await httpProbe(spec('http', `http://127.0.0.1:${await freePort()}/`), ctx)).ok).toBe(false);
  });
});
