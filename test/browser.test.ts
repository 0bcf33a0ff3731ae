/**
 * The product's "DoH from browsers" promise, with a real browser: headless Chromium, its DoH
 * set to edgedns (secure mode, via the profile's Local State), loads a page by a name only
 * edgedns's zone knows. Everything runs in a network namespace with only loopback, so nothing
 * can leave and the system resolver cannot answer instead.
 */
import { spawn, execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts } from './helpers/certs.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { Netns } from './helpers/netns.js';
import { missingOrNotRoot } from './helpers/system.js';

const skip = missingOrNotRoot('chromium', 'ip', 'openssl');

const PAGE = `require('http').createServer((q, s) => { s.writeHead(200, {'content-type': 'text/html'}); s.end('<!doctype html><title>lan</title><h1 id="ok">Hello from ' + q.headers.host + '</h1>'); }).listen(8080, '127.0.0.1');`;

describe.skipIf(skip)('a real browser resolving a LAN name over DoH', () => {
  let ns: Netns;
  let edge: EdgednsProcess;
  let page: ReturnType<typeof spawn>;
  let spki: string;

  beforeAll(async () => {
    ns = new Netns();
    const certs = makeCerts(['localhost']);
    const der = new X509Certificate(readFileSync(certs.cert)).publicKey.export({ type: 'spki', format: 'der' });
    spki = createHash('sha256').update(der).digest('base64');
    page = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', PAGE], { stdio: 'ignore' });
    edge = await EdgednsProcess.start(`
listen:
  - { address: 127.0.0.1, port: 5353, protocols: [udp, tcp, doh], doh-port: 8443 }
tls: { cert: ${certs.cert}, key: ${certs.key} }
zone:
  records:
    - { name: printer, type: A, value: 127.0.0.1 }
upstreams: [udp://127.0.0.1:9]
upstream-timeout: 200ms
log: { queries: true }
`, { netns: ns.name });
  });

  afterAll(async () => {
    await edge?.stop();
    page?.kill('SIGTERM');
    ns?.remove();
  });

  it('loads http://printer.home.arpa:8080/ through edgedns DoH', { timeout: 90_000 }, async () => {
    const profile = mkdtempSync(join(tmpdir(), 'edgedns-chromium-'));
    mkdirSync(join(profile, 'Default'), { recursive: true });
    writeFileSync(join(profile, 'Local State'), JSON.stringify({
      dns_over_https: { mode: 'secure', templates: 'https://127.0.0.1:8443/dns-query{?dns}' },
    }));
    const dom = await new Promise<string>((resolve) => {
      execFile('ip', ['netns', 'exec', ns.name, 'chromium', '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
        `--user-data-dir=${profile}`, `--ignore-certificate-errors-spki-list=${spki}`, '--virtual-time-budget=5000',
        '--dump-dom', 'http://printer.home.arpa:8080/'], { timeout: 80_000, env: { ...process.env, HOME: profile } }, (_e, stdout) => resolve(stdout));
    });
    expect(dom).toContain('Hello from printer.home.arpa:8080');
    const lookup = JSON.parse(await edge.waitForLog('"name":"printer.home.arpa"', 5000));
    expect(lookup.query).toMatchObject({ transport: 'doh', name: 'printer.home.arpa', rcode: 'NOERROR', source: 'local' });
  });
});
