/** edgedns forwarding over tls:// and https:// to a real Unbound (tls-port, https-port). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts } from './helpers/certs.js';
import { dig } from './helpers/dig.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { freePort } from './helpers/ports.js';
import { missing } from './helpers/system.js';
import { Unbound } from './helpers/unbound.js';

const skip = missing('unbound', 'dig', 'openssl');

describe.skipIf(skip)('encrypted upstreams', () => {
  let secure: Unbound;
  let plain: Unbound;
  let edge: EdgednsProcess;
  let port: number;
  const q = (...a: string[]) => dig(['@127.0.0.1', '-p', String(port), ...a]);

  beforeAll(async () => {
    const certs = makeCerts(['localhost']);
    [secure, plain] = await Promise.all([
      Unbound.start({
        zones: ['lab.example.', 'viahttps.example.'], tls: { cert: certs.cert, key: certs.key },
        data: ['secret.lab.example. 300 IN A 192.0.2.44', 'www.viahttps.example. 300 IN A 192.0.2.45', 'who.lab.example. 300 IN TXT "secure"'],
      }),
      Unbound.start({ zones: ['lab.example.'], data: ['who2.lab.example. 300 IN TXT "plain"'] }),
    ]);
    port = await freePort();
    edge = await EdgednsProcess.start(`
listen:
  - { address: 127.0.0.1, port: ${port} }
upstreams:
  - { name: unbound-dot, url: "tls://127.0.0.1:${secure.tlsPort}", tls-name: localhost, tls-ca: ${certs.ca} }
  - { name: unbound-plain, url: "udp://127.0.0.1:${plain.port}" }
upstream-timeout: 500ms
forward:
  - domain: viahttps.example
    upstreams: [{ name: unbound-doh, url: "https://127.0.0.1:${secure.httpsPort}/dns-query", tls-name: localhost, tls-ca: ${certs.ca} }]
`);
  });

  afterAll(async () => {
    await edge?.stop();
    await Promise.all([secure?.stop(), plain?.stop()]);
  });

  it('resolves a name only the DoT upstream knows', async () => {
    const r = await q('secret.lab.example');
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.44']);
    expect((await q('who.lab.example', 'TXT')).answer[0].data).toBe('"secure"');
  });

  it('resolves through a DoH upstream', async () => {
    expect((await q('www.viahttps.example')).answer.map((a) => a.data)).toEqual(['192.0.2.45']);
  });

  it('fails over to the next upstream when the TLS side stops, and logs the state change', async () => {
    await secure.stop();
    for (let i = 0; i < 3; i++) {
      const r = await q(`who2.lab.example`, 'TXT', '+time=3');
      expect(r.answer[0].data).toBe('"plain"');
      await q(`x${i}.lab.example`, '+time=3');
    }
    const line = await edge.waitForLog('upstream down', 5000);
    expect(JSON.parse(line).upstream).toMatchObject({ name: 'unbound-dot', protocol: 'tls' });
  });
});
