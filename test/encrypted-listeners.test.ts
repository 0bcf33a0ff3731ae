/**
 * DoT and DoH listeners with real clients: kdig, dig, curl (--doh-url and raw HTTP/1.1 and
 * HTTP/2), nghttp for frame-level checks, and Node's tls for padding and certificate reloads.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import tls from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminGet, adminText } from './helpers/admin-socket.js';
import { makeCerts, type TestCerts } from './helpers/certs.js';
import { curl } from './helpers/curl.js';
import { dig, kdig } from './helpers/dig.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { decode, makeQuery } from './helpers/packets.js';
import { freePort } from './helpers/ports.js';
import { frameOf } from './helpers/raw-client.js';
import { missing } from './helpers/system.js';

const skip = missing('dig', 'kdig', 'curl', 'nghttp', 'h2load', 'openssl');

function dotExchange(port: number, ca: string, query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: [ca], servername: 'localhost', ALPNProtocols: ['dot'] }, () => s.write(frameOf(query)));
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.end();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    s.on('error', reject);
  });
}

function peerNames(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: [ca], servername: 'localhost' }, () => {
      resolve(s.getPeerCertificate().subjectaltname ?? '');
      s.end();
    });
    s.on('error', reject);
  });
}

describe.skipIf(skip)('DoT and DoH listeners', () => {
  let certs: TestCerts;
  let edge: EdgednsProcess;
  let page: http.Server;
  let pagePort: number;
  let port: number;
  let dotPort: number;
  let dohPort: number;
  let caPem: string;
  const doh = (path = '/dns-query') => `https://localhost:${dohPort}${path}`;

  beforeAll(async () => {
    certs = makeCerts(['localhost']);
    caPem = readFileSync(certs.ca, 'utf8');
    pagePort = await freePort();
    page = http.createServer((_req, res) => res.end('<h1 id="ok">hello from printer</h1>'));
    await new Promise<void>((r) => page.listen(pagePort, '127.0.0.1', () => r()));
    port = await freePort();
    dotPort = await freePort();
    dohPort = await freePort();
    edge = await EdgednsProcess.start(`
listen:
  - { address: 127.0.0.1, port: ${port}, protocols: [udp, tcp, dot, doh], dot-port: ${dotPort}, doh-port: ${dohPort} }
tls: { cert: ${certs.cert}, key: ${certs.key} }
acl:
  - { from: 127.0.0.2/32, action: refuse }
  - { from: 127.0.0.3/32, action: drop }
  - { from: 127.0.0.0/8, action: allow }
zone:
  records:
    - { name: printer, type: A, value: 127.0.0.1, ttl: 120 }
upstreams: [udp://127.0.0.1:9]
upstream-timeout: 200ms
admin: { socket: ${certs.dir}/admin.sock }
`);
  });

  afterAll(async () => {
    await edge?.stop();
    await new Promise((r) => page?.close(r));
  });

  it('answers kdig over DoT, DoH POST and DoH GET, verifying the certificate', async () => {
    const base = ['@127.0.0.1', `+tls-ca=${certs.ca}`, '+tls-hostname=localhost', 'printer.home.arpa'];
    for (const extra of [['-p', String(dotPort), '+tls'], ['-p', String(dohPort), '+https'], ['-p', String(dohPort), '+https-get']]) {
      const r = await kdig([...extra, ...base]);
      expect(r.status, extra.join(' ')).toBe('NOERROR');
      expect(r.raw).toMatch(/printer\.home\.arpa\.\s+120\s+IN\s+A\s+127\.0\.0\.1/);
    }
  });

  it('answers dig +tls and dig +https', async () => {
    const t = await dig(['+tls', `+tls-ca=${certs.ca}`, '+tls-hostname=localhost', '-p', String(dotPort), '@127.0.0.1', 'printer.home.arpa']);
    expect(t.answer[0].data).toBe('127.0.0.1');
    const h = await dig(['+https', `+tls-ca=${certs.ca}`, '+tls-hostname=localhost', '-p', String(dohPort), '@127.0.0.1', 'printer.home.arpa']);
    expect(h.answer[0].data).toBe('127.0.0.1');
  });

  it('lets curl resolve a LAN name over DoH and load the page', async () => {
    const r = await curl(['--cacert', certs.ca, '--doh-url', doh(), `http://printer.home.arpa:${pagePort}/`]);
    expect(r.code).toBe(0);
    expect(r.body).toContain('hello from printer');
  });

  it('serves raw HTTP/1.1 GET and POST and HTTP/2 with Cache-Control from the smallest TTL', async () => {
    const q = makeQuery('printer.home.arpa', 'A', { id: 0, edns: 1232 });
    const get = await curl(['--http1.1', '--cacert', certs.ca, '-H', 'accept: application/dns-message', `${doh()}?dns=${q.toString('base64url')}`]);
    expect(get.status).toBe(200);
    expect(get.headers).toMatch(/^HTTP\/1\.1 200/m);
    expect(get.headers).toMatch(/cache-control: max-age=120/i);
    expect(decode(Buffer.from(get.body, 'latin1')).answers![0].data).toBe('127.0.0.1');
    const file = join(certs.dir, 'q.bin');
    writeFileSync(file, q);
    const post = await curl(['--http1.1', '--cacert', certs.ca, '-H', 'content-type: application/dns-message', '--data-binary', `@${file}`, doh()]);
    expect(post.status).toBe(200);
    expect(decode(Buffer.from(post.body, 'latin1')).answers![0].data).toBe('127.0.0.1');
    const h2 = await curl(['--http2', '--cacert', certs.ca, `${doh()}?dns=${q.toString('base64url')}`]);
    expect(h2.headers).toMatch(/^HTTP\/2 200/m);
  });

  it('answers the JSON form for ?name=&type=', async () => {
    const r = await curl(['--cacert', certs.ca, '-H', 'accept: application/dns-json', `${doh()}?name=printer.home.arpa&type=A`]);
    expect(r.headers).toMatch(/content-type: application\/dns-json/i);
    expect(JSON.parse(r.body)).toMatchObject({ Status: 0, Answer: [{ name: 'printer.home.arpa.', type: 1, TTL: 120, data: '127.0.0.1' }] });
    const nx = JSON.parse((await curl(['--cacert', certs.ca, `${doh()}?name=nope.home.arpa&type=AAAA`])).body);
    expect(nx.Status).toBe(3);
    expect(nx.Authority[0].type).toBe(6);
  });

  it('serves undici over HTTP/2 (GET and POST on one connection) and h2load\'s 400 requests on 4 connections', async () => {
    const { Agent, request } = await import('undici');
    const agent = new Agent({ allowH2: true, connect: { ca: readFileSync(certs.ca) } });
    try {
      const q = makeQuery('printer.home.arpa', 'A', { id: 0 });
      const get = await request(`${doh()}?dns=${q.toString('base64url')}`, { dispatcher: agent, headers: { accept: 'application/dns-message' } });
      expect(get.statusCode).toBe(200);
      expect(get.headers['content-type']).toBe('application/dns-message');
      expect(decode(Buffer.from(await get.body.arrayBuffer())).answers![0].data).toBe('127.0.0.1');
      const post = await request(doh(), { dispatcher: agent, method: 'POST', headers: { 'content-type': 'application/dns-message' }, body: q });
      expect(post.statusCode).toBe(200);
      expect(decode(Buffer.from(await post.body.arrayBuffer())).answers![0].data).toBe('127.0.0.1');
    } finally {
      await agent.close();
    }
    const q = makeQuery('printer.home.arpa', 'A', { id: 0 });
    const out = await new Promise<string>((resolve) => {
      execFile('h2load', ['-n', '400', '-c', '4', '-m', '10', `${doh()}?dns=${q.toString('base64url')}`], { timeout: 20_000 }, (_e, stdout) => resolve(stdout));
    });
    expect(out).toMatch(/400 succeeded, 0 failed, 0 errored/);
  });

  it('sends each HTTP/2 answer as one DATA frame with END_STREAM', async () => {
    const q = makeQuery('printer.home.arpa', 'A', { id: 0 });
    const out = await new Promise<string>((resolve) => {
      execFile('nghttp', ['-nv', `${doh()}?dns=${q.toString('base64url')}`], { timeout: 8000 }, (_e, stdout) => resolve(stdout));
    });
    const dataFrames = out.split('\n').filter((l) => /recv DATA frame/.test(l));
    expect(dataFrames).toHaveLength(1);
    expect(dataFrames[0]).toMatch(/END_STREAM|flags=0x01/);
  });

  it('answers bad requests with HTTP errors', async () => {
    const ca = ['--cacert', certs.ca];
    expect((await curl([...ca, '-X', 'PUT', doh()])).status).toBe(405);
    expect((await curl([...ca, '-X', 'POST', '-H', 'content-type: text/plain', '--data', 'x', doh()])).status).toBe(415);
    expect((await curl([...ca, `${doh()}?dns=not*base64`])).status).toBe(400);
    expect((await curl([...ca, `${doh()}?dns=${Buffer.from('hello').toString('base64url')}`])).status).toBe(400);
    const twoQuestions = makeQuery('printer.home.arpa');
    twoQuestions.writeUInt16BE(2, 4);
    expect((await curl([...ca, `${doh()}?dns=${twoQuestions.toString('base64url')}`])).status).toBe(400);
    const big = join(certs.dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(70_000));
    expect((await curl([...ca, '-H', 'content-type: application/dns-message', '--data-binary', `@${big}`, doh()])).status).toBe(413);
    expect((await curl([...ca, doh('/elsewhere')])).status).toBe(404);
    expect((await curl([...ca, doh()])).status).toBe(400); // GET without ?dns=
  });

  it('pads DoT and DoH answers to 468 bytes when the query asks for padding', async () => {
    const dot = await dotExchange(dotPort, caPem, makeQuery('printer.home.arpa', 'A', { edns: 1232, padding: true }));
    expect(dot.length % 468).toBe(0);
    expect(decode(dot).answers![0].data).toBe('127.0.0.1');
    const plain = await dotExchange(dotPort, caPem, makeQuery('printer.home.arpa', 'A', { edns: 1232 }));
    expect(plain.length % 468).not.toBe(0);
    const q = makeQuery('printer.home.arpa', 'A', { id: 0, edns: 1232, padding: true });
    const r = await curl(['--cacert', certs.ca, `${doh()}?dns=${q.toString('base64url')}`]);
    expect(Buffer.from(r.body, 'latin1').length % 468).toBe(0);
  });

  it('applies the ACL: REFUSED over DoT, 403 over DoH, and nothing for dropped sources', async () => {
    const t = await dig(['-b', '127.0.0.2', '+tls', '-p', String(dotPort), '@127.0.0.1', 'printer.home.arpa']);
    expect(t.status).toBe('REFUSED');
    expect((await curl(['--interface', '127.0.0.2', '--cacert', certs.ca, `${doh()}?name=printer.home.arpa`])).status).toBe(403);
    const dropped = await curl(['--interface', '127.0.0.3', '--cacert', certs.ca, `${doh()}?name=printer.home.arpa`]);
    expect(dropped.status).toBe(0);
    expect(dropped.code).not.toBe(0);
  });

  it('counts the ACL\'s drops and refusals per transport, for UDP, TCP, DoT and DoH alike', async () => {
    const before = (await adminGet(`${certs.dir}/admin.sock`, '/stats')).acl;
    const from = (source: string, ...extra: string[]) => dig(['-b', source, '@127.0.0.1', '+tries=1', '+time=1', ...extra, 'printer.home.arpa']);
    await from('127.0.0.2', '-p', String(port));
    await from('127.0.0.2', '+tcp', '-p', String(port));
    await from('127.0.0.2', '+tls', '-p', String(dotPort));
    await curl(['--interface', '127.0.0.2', '--cacert', certs.ca, `${doh()}?name=printer.home.arpa`]);
    await from('127.0.0.3', '-p', String(port));
    await from('127.0.0.3', '+tcp', '-p', String(port));
    await from('127.0.0.3', '+tls', '-p', String(dotPort));
    await curl(['--interface', '127.0.0.3', '--max-time', '2', '--cacert', certs.ca, `${doh()}?name=printer.home.arpa`]);
    const after = (await adminGet(`${certs.dir}/admin.sock`, '/stats')).acl;
    for (const t of ['udp', 'tcp', 'dot', 'doh']) {
      expect(after.refused[t] - before.refused[t], `refused over ${t}`).toBe(1);
      expect(after.dropped[t] - before.dropped[t], `dropped over ${t}`).toBeGreaterThanOrEqual(1);
    }
    const metrics = await adminText(`${certs.dir}/admin.sock`, '/metrics');
    expect(metrics).toMatch(/edgedns_acl_refused_total\{transport="doh"\} [1-9]/);
    expect(metrics).toMatch(/edgedns_acl_dropped_total\{transport="dot"\} [1-9]/);
  });

  it('re-reads the certificate on SIGHUP and when the files change, keeping open connections', async () => {
    expect(await peerNames(dotPort, caPem)).not.toContain('renewed.example');
    // An open DoT connection before the change...
    const open = tls.connect({ host: '127.0.0.1', port: dotPort, ca: [caPem], servername: 'localhost' });
    await new Promise((r) => open.once('secureConnect', r));
    // ...then a renewed certificate from the same CA, written over the files.
    const renewed = makeCerts(['localhost', 'renewed.example'], certs.dir);
    expect(renewed.cert).toBe(certs.cert);
    let names = '';
    for (let i = 0; i < 40 && !names.includes('renewed.example'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      names = await peerNames(dotPort, caPem);
    }
    expect(names).toContain('renewed.example'); // picked up from the file change alone
    // SIGHUP with a third certificate also applies.
    const mark = edge.logs.length;
    makeCerts(['localhost', 'third.example'], certs.dir);
    edge.signal('SIGHUP');
    await edge.waitForLog('config reloaded', 5000, mark);
    expect(await peerNames(dotPort, caPem)).toContain('third.example');
    // The connection opened before both changes still answers.
    const reply = await new Promise<Buffer>((resolve) => {
      let buf = Buffer.alloc(0);
      open.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) resolve(buf.subarray(2));
      });
      open.write(frameOf(makeQuery('printer.home.arpa', 'A', { id: 77 })));
    });
    expect(decode(reply).id).toBe(77);
    open.end();
  });

  it('resumes the TLS session of a client that reconnects (tickets), on DoT and DoH, also after a certificate reload', async () => {
    // The first connection waits for its ticket (TLS 1.3 sends it after the handshake); a
    // resumed one answers at once whether the server took the ticket.
    const connect = (p: number, alpn: string, session?: Buffer) => new Promise<{ reused: boolean; session?: Buffer }>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: p, ca: [caPem], servername: 'localhost', ALPNProtocols: [alpn], session });
      s.on('error', reject);
      s.on('data', () => undefined);
      if (session === undefined) {
        s.once('session', (sess: Buffer) => {
          resolve({ reused: s.isSessionReused(), session: sess });
          s.end();
        });
      } else {
        s.once('secureConnect', () => {
          resolve({ reused: s.isSessionReused() });
          s.end();
        });
      }
    });
    for (const [p, alpn] of [[dotPort, 'dot'], [dohPort, 'h2']] as const) {
      const first = await connect(p, alpn);
      expect(first.reused).toBe(false);
      expect((await connect(p, alpn, first.session!)).reused, `${alpn} resumed`).toBe(true);
      const mark = edge.logs.length;
      edge.signal('SIGHUP');
      await edge.waitForLog('config reloaded', 5000, mark);
      expect((await connect(p, alpn, first.session!)).reused, `${alpn} resumed after a reload`).toBe(true);
    }
  });
});
