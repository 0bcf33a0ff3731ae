/**
 * The operator's view against a running server: every admin path, /metrics through a real
 * Prometheus text parser, the CLI's show / cache flush / reload, the token rule, the socket's
 * mode, and the query log.
 */
import { execFile } from 'node:child_process';
import nodeHttp from 'node:http';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../src/admin/admin-client.js';
import { nativeUdp } from '../src/host/native-udp.js';
import { watchEvents } from './helpers/admin-socket.js';
import { dig } from './helpers/dig.js';
import { DnsFixture } from './helpers/dns-fixture.js';
import { BIN, EdgednsProcess } from './helpers/edgedns-process.js';
import { freePort } from './helpers/ports.js';
import { missing } from './helpers/system.js';

const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Array<{ name: string; type: string; metrics: Array<{ labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string }> }>;
const skip = missing('dig');

interface RawResponse { status: number; headers: nodeHttp.IncomingHttpHeaders; body: Buffer }

/** One request with exactly the headers given (a browser's, a forger's), over TCP or the socket. */
function raw(where: { port?: number; socketPath?: string }, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request({ host: '127.0.0.1', ...where, method, path, headers: { host: '127.0.0.1', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe.skipIf(skip)('admin API and operator commands', () => {
  let upstream: DnsFixture;
  let edge: EdgednsProcess;
  let port: number;
  let adminPort: number;
  let dir: string;
  let socket: string;
  const token = 'test-token-123';
  const http = () => ({ label: 'tcp', host: '127.0.0.1', port: adminPort });
  const get = async (path: string) => JSON.parse((await request(http(), 'GET', path)).body);
  const config = (extra = '') => `
listen:
  - { address: 127.0.0.1, port: ${port} }
zone:
  records:
    - { name: gw, type: A, value: 10.0.0.1 }
${extra}
  reverse: [10.0.0.0/24]
upstreams: [{ name: fixture, url: "${upstream.url}" }]
admin:
  http: 127.0.0.1:${adminPort}
  socket: ${socket}
  token-file: ${join(dir, 'token')}
log: { queries: true }
`;

  beforeAll(async () => {
    upstream = await DnsFixture.start({ answers: { 'five.example': ['192.0.2.5', 300] } });
    dir = mkdtempSync(join(tmpdir(), 'edgedns-admin-'));
    socket = join(dir, 'run', 'admin.sock');
    writeFileSync(join(dir, 'token'), `${token}\n`);
    port = await freePort();
    adminPort = await freePort();
    edge = await EdgednsProcess.start(config());
  });

  afterAll(async () => {
    await edge?.stop();
    await upstream?.close();
  });

  it('counts 5 queries for one name as 1 upstream answer and 4 cache hits', async () => {
    for (let i = 0; i < 5; i++) expect((await dig(['@127.0.0.1', '-p', String(port), 'five.example'])).answer[0].data).toBe('192.0.2.5');
    expect(upstream.seen.filter((s) => s.name === 'five.example')).toHaveLength(1);
    const stats = await get('/stats');
    expect(stats.bySource).toMatchObject({ upstream: 1, cache: 4 });
    expect(stats.byTransport.udp).toBeGreaterThanOrEqual(5);
    expect(stats.byRcode.NOERROR).toBeGreaterThanOrEqual(5);
    expect(stats.latencyMs.p50).not.toBeNull();
    // which UDP path this run takes: the native batches when npm ci built them, unless forced off
    const io = process.env.EDGEDNS_UDP_IO === 'dgram' || nativeUdp().addon === null ? 'dgram' : 'recvmmsg';
    expect(stats.udpIo).toEqual([expect.objectContaining({ listener: `udp|127.0.0.1|${port}`, io })]);
    if (io === 'recvmmsg') expect(stats.udpIo[0].datagrams).toBeGreaterThanOrEqual(5);
    const cache = await get('/cache');
    expect(cache).toMatchObject({ hits: 4, misses: 1, entries: 1 });
    expect(cache.hitRatio).toBeCloseTo(0.8);
    const ups = (await get('/upstreams')).upstreams;
    expect(ups[0]).toMatchObject({ name: 'fixture', protocol: 'udp', state: 'up', queries: 1, errors: 0, uplink: null });
  });

  it('lists the zone with where each record came from, and the other paths answer', async () => {
    const zone = await get('/zone');
    expect(zone.domain).toBe('home.arpa');
    expect(zone.records).toContainEqual(expect.objectContaining({ name: 'gw.home.arpa', type: 'A', value: '10.0.0.1', origin: 'static' }));
    expect(zone.records).toContainEqual(expect.objectContaining({ name: '1.0.0.10.in-addr.arpa', type: 'PTR', origin: 'synthesized' }));
    expect(await get('/leases')).toEqual({ leases: [], sources: [] });
    expect(await get('/uplinks')).toEqual({ mode: null, selection: null, routing: null, uplinks: [], events: [], flows: null });
    expect(await get('/wireguard')).toMatchObject({ configured: false, interface: null, peers: [] });
    expect(await get('/queueing')).toEqual({ uplinks: [] });
    expect(await get('/ha')).toEqual({ enabled: false, role: null, since: null, seenAt: null, changes: 0, stateFile: null, publishing: true, publishes: [], withheld: [], follow: null });
    expect((await request(http(), 'GET', '/nope')).status).toBe(404);
  });

  it('serves /metrics that a Prometheus parser reads, with every documented family', async () => {
    const res = await request(http(), 'GET', '/metrics');
    expect(res.status).toBe(200);
    const families = new Map(parsePrometheus(res.body).map((f) => [f.name, f]));
    for (const name of [
      'edgedns_queries_total', 'edgedns_answers_total', 'edgedns_query_duration_seconds', 'edgedns_cache_entries', 'edgedns_cache_bytes', 'edgedns_cache_slab_bytes',
      'edgedns_cache_hits_total', 'edgedns_cache_misses_total', 'edgedns_cache_evictions_total', 'edgedns_upstream_queries_total',
      'edgedns_upstream_errors_total', 'edgedns_upstream_rtt_seconds', 'edgedns_uplink_up', 'edgedns_uplink_probe_rtt_seconds', 'edgedns_lease_names',
      'process_resident_memory_bytes',
    ]) expect(families.has(name), name).toBe(true);
    const udpOk = families.get('edgedns_queries_total')!.metrics.find((m) => m.labels?.transport === 'udp' && m.labels?.rcode === 'NOERROR');
    expect(Number(udpOk!.value)).toBeGreaterThanOrEqual(5);
    expect(families.get('edgedns_query_duration_seconds')!.type).toBe('HISTOGRAM');
    expect(Number(families.get('edgedns_query_duration_seconds')!.metrics[0].count)).toBeGreaterThanOrEqual(5);
    const cacheHits = families.get('edgedns_cache_hits_total')!.metrics[0];
    expect(Number(cacheHits.value)).toBe(4);
    expect(families.get('edgedns_upstream_queries_total')!.metrics[0].labels).toEqual({ upstream: 'fixture', protocol: 'udp' });
  });

  it('needs the token for POST over TCP, not over the 0600 socket', async () => {
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect((await request(http(), 'POST', '/cache/flush', { name: 'nothing.example' })).status).toBe(401);
    expect((await request({ ...http(), token: 'wrong' }, 'POST', '/cache/flush', {})).status).toBe(401);
    expect((await request({ ...http(), token }, 'POST', '/cache/flush', { name: 'nothing.example' })).status).toBe(200);
    expect((await request({ label: 'sock', socketPath: socket }, 'POST', '/cache/flush', { name: 'nothing.example' })).status).toBe(200);
    expect((await request(http(), 'GET', '/stats')).status).toBe(200); // reads stay open on loopback
  });

  it('serves the dashboard: over the socket at once, over TCP behind the token\'s login form, under a strict CSP', async () => {
    const viaSocket = await raw({ socketPath: socket }, 'GET', '/');
    expect(viaSocket.status).toBe(200);
    expect(viaSocket.body.toString()).toContain('<script type="module" src="/app.js"></script>');
    expect(viaSocket.body.toString()).not.toMatch(/<script>|<script [^>]*>[^<]/); // no inline script
    const csp = String(viaSocket.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(viaSocket.headers['x-content-type-options']).toBe('nosniff');
    // admin.token-file is set: over TCP the page is the login form until the token is given
    const form = await raw({ port: adminPort }, 'GET', '/');
    expect(form.status).toBe(200);
    expect(form.body.toString()).toContain('<form method="post" action="/login"');
    expect(form.headers['content-security-policy']).toBe(csp);
    const wrong = await raw({ port: adminPort }, 'POST', '/login', { origin: `http://127.0.0.1:${adminPort}`, host: `127.0.0.1:${adminPort}`, 'content-type': 'application/x-www-form-urlencoded' }, 'token=guess');
    expect(wrong.status).toBe(401);
    expect(wrong.body.toString()).toContain('wrong token');
    const ok = await raw({ port: adminPort }, 'POST', '/login', { origin: `http://127.0.0.1:${adminPort}`, host: `127.0.0.1:${adminPort}`, 'content-type': 'application/x-www-form-urlencoded' }, `token=${token}`);
    expect(ok.status).toBe(303);
    const cookie = String(ok.headers['set-cookie']).split(';')[0];
    expect(String(ok.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await raw({ port: adminPort }, 'GET', '/', { cookie, host: `127.0.0.1:${adminPort}` });
    expect(page.body.toString()).toContain('src="/app.js"');
    // the cookie writes only from the page's own origin
    const own = { cookie, host: `127.0.0.1:${adminPort}`, origin: `http://127.0.0.1:${adminPort}` };
    const flushNothing = '{"name":"nothing.example"}';
    expect((await raw({ port: adminPort }, 'POST', '/cache/flush', own, flushNothing)).status).toBe(200);
    expect((await raw({ port: adminPort }, 'POST', '/cache/flush', { ...own, origin: 'http://evil.example' }, flushNothing)).status).toBe(403);
    expect((await raw({ port: adminPort }, 'POST', '/cache/flush', { host: own.host, origin: own.origin }, flushNothing)).status).toBe(403);
  });

  it('the whole page, every file it loads, is under 150 KB gzipped and comes from here', async () => {
    const seen = new Map<string, number>();
    const queue = ['/'];
    while (queue.length > 0) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      const res = await raw({ socketPath: socket }, 'GET', path, { 'accept-encoding': 'gzip' });
      expect(res.status, path).toBe(200);
      expect(res.headers['content-encoding'], path).toBe('gzip');
      seen.set(path, res.body.length);
      const text = gunzipSync(res.body).toString();
      for (const m of text.matchAll(/(?:src|href)="(\/[^"]+\.(?:js|css))"/g)) queue.push(m[1]);
      for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) queue.push(new URL(m[1], `http://x${path}`).pathname);
      expect(text, path).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/); // no CDN, nothing fetched from elsewhere
    }
    expect([...seen.keys()]).toEqual(expect.arrayContaining(['/', '/style.css', '/app.js', '/feed.js', '/views/overview.js', '/views/wireguard.js']));
    const total = [...seen.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(150 * 1024);
    const again = await raw({ socketPath: socket }, 'GET', '/app.js', { 'if-none-match': String((await raw({ socketPath: socket }, 'GET', '/app.js')).headers.etag) });
    expect(again.status).toBe(304);
  });

  it('GET /history: 5 s samples of qps by transport and source, for the charts', async () => {
    const h = await get('/history');
    expect(h.stepMs).toBe(5000);
    expect(Array.isArray(h.samples)).toBe(true);
    const events = await watchEvents(socket);
    try {
      const sample = await events.waitFor((e) => e.event === 'sample', 7000);
      expect(sample?.data).toMatchObject({ qps: { udp: expect.any(Number), tcp: 0, dot: 0, doh: 0 }, sources: expect.objectContaining({ local: expect.any(Number) }), uplinks: [], queueing: [] });
    } finally {
      events.close();
    }
    expect((await get('/history')).samples.length).toBeGreaterThan(h.samples.length);
  });

  it('POST /wireguard/peers says why it cannot add one (no tunnel here), and names the key', async () => {
    const res = await request({ ...http(), token }, 'POST', '/wireguard/peers', { name: 'phone' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'WG_NOT_CONFIGURED' });
    expect(JSON.parse((await request({ ...http(), token }, 'POST', '/wireguard/peers', {})).body).error).toBe('name: a peer name is required');
    expect(JSON.parse((await request({ ...http(), token }, 'POST', '/wireguard/peers', { name: 'x', scope: 'half' })).body).error).toBe('scope: full or split');
  });

  it('top names and clients are exact at home rates: a name asked 3 times shows 3', async () => {
    for (let i = 0; i < 3; i++) await dig(['-p', String(port), '@127.0.0.1', 'counted.home.arpa', 'A']);
    const s = await get('/stats');
    expect(s.topNames.find((n: { name: string }) => n.name === 'counted.home.arpa')?.count).toBe(3);
    expect(s.topEstimated).toBe(false);
    const me = s.topClients.find((c: { client: string }) => c.client === '127.0.0.1');
    expect(me.count).toBeGreaterThanOrEqual(3);
    expect(me.count).toBeLessThanOrEqual(s.queries); // never above the totals
    const show = await cli(['show', 'stats', '--admin', `unix:${socket}`]);
    expect(show.stdout).toMatch(/top names \(last 5 minutes\)\n/);
    expect(show.stdout).toMatch(/counted\.home\.arpa\s+3\n/);
  });

  it('streams the live feed on GET /events: stats every second, each query as it is answered', async () => {
    const feed = await watchEvents(socket);
    expect(feed.contentType).toBe('text/event-stream');
    expect((await feed.waitFor((e) => e.event === 'stats'))?.data).toHaveProperty('qps');
    await dig(['-p', String(port), '@127.0.0.1', 'live.home.arpa', 'A']);
    const q = await feed.waitFor((e) => e.event === 'query' && e.data.name === 'live.home.arpa');
    expect(q?.data).toMatchObject({ client: '127.0.0.1', type: 'A', rcode: 'NXDOMAIN', source: 'local' });
    feed.close();
  });

  it('edgedns show prints tables, and --json for scripts', async () => {
    const stats = await cli(['show', 'stats', '--admin', `http://127.0.0.1:${adminPort}`]);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/queries\s+\d/);
    expect(stats.stdout).toContain('top names');
    const json = await cli(['show', 'cache', '--json', '--admin', `unix:${socket}`]);
    expect(JSON.parse(json.stdout).hits).toBeGreaterThanOrEqual(4);
    const ups = await cli(['show', 'upstreams', '-c', edge.configPath]); // found through the config's socket
    expect(ups.code).toBe(0);
    expect(ups.stdout.split('\n')[0]).toMatch(/^name\s+protocol\s+state\s+rtt\s+queries\s+errors/);
    expect(ups.stdout).toMatch(/fixture\s+udp\s+up/);
    const zone = await cli(['show', 'zone', '--admin', `unix:${socket}`]);
    expect(zone.stdout).toMatch(/gw\.home\.arpa\s+A\s+300\s+10\.0\.0\.1\s+static/);
    for (const view of ['leases', 'uplinks']) expect((await cli(['show', view, '--admin', `unix:${socket}`])).code).toBe(0);
  });

  it('edgedns cache flush drops one name or everything', async () => {
    await dig(['@127.0.0.1', '-p', String(port), 'five.example']);
    const one = await cli(['cache', 'flush', 'five.example', '--admin', `unix:${socket}`]);
    expect(one.stdout.trim()).toBe('flushed 1 entry for five.example');
    expect((await get('/cache')).entries).toBe(0);
    await dig(['@127.0.0.1', '-p', String(port), 'five.example']);
    expect(upstream.seen.filter((s) => s.name === 'five.example')).toHaveLength(2);
    const all = await cli(['cache', 'flush', '-c', edge.configPath]);
    expect(all.code).toBe(0);
    expect((await get('/cache')).entries).toBe(0);
  });

  it('edgedns reload applies a good file and refuses a bad one, changing nothing', async () => {
    edge.rewriteConfig(config('    - { name: added, type: A, value: 10.0.0.9 }'));
    const ok = await cli(['reload', '-c', edge.configPath]);
    expect(ok.code).toBe(0);
    expect((await dig(['@127.0.0.1', '-p', String(port), 'added.home.arpa'])).answer[0].data).toBe('10.0.0.9');
    edge.rewriteConfig(config('    - { name: broken, type: A, value: not-an-ip }'));
    const bad = await cli(['reload', '--admin', `unix:${socket}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(new RegExp(`${edge.configPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+ zone\\.records\\[1\\]\\.value`));
    expect((await dig(['@127.0.0.1', '-p', String(port), 'added.home.arpa'])).answer[0].data).toBe('10.0.0.9');
  });

  it('says where it looked when it cannot reach a server', async () => {
    const r = await cli(['show', 'stats', '--admin', 'http://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('looked at http://127.0.0.1:1');
    expect(r.stderr).toContain('--admin');
  });

  it('writes one query log line per query with client, name, type, rcode, source, upstream and latency', async () => {
    await dig(['@127.0.0.1', '-p', String(port), 'logged.example']);
    const line = JSON.parse(await edge.waitForLog('"name":"logged.example"', 5000));
    expect(line.query).toMatchObject({ client: '127.0.0.1', transport: 'udp', name: 'logged.example', type: 'A', rcode: 'NXDOMAIN', source: 'upstream', upstream: 'fixture' });
    expect(typeof line.query.ms).toBe('number');
  });

  it('refuses to serve the admin API on a non-loopback address without a token', async () => {
    const p = await freePort();
    const cfg = join(dir, 'unsafe.yaml');
    writeFileSync(cfg, `listen:\n  - { address: 127.0.0.1, port: ${p} }\nupstreams: [udp://127.0.0.1:9]\nadmin: { http: "0.0.0.0:${await freePort()}" }\n`);
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, [BIN, 'serve', '-c', cfg], { timeout: 10_000 }, (err, stdout, stderr) => resolve({ code: Number((err as { code?: number } | null)?.code ?? 0), out: stdout + stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain('ADMIN_UNSAFE');
  });

  it('admin.dashboard: false serves the API without the page', async () => {
    const d = mkdtempSync(join(tmpdir(), 'edgedns-nodash-'));
    const sock = join(d, 'admin.sock');
    const off = await EdgednsProcess.start(`listen:\n  - { address: 127.0.0.1, port: ${await freePort()} }\nupstreams: [udp://127.0.0.1:9]\nadmin: { socket: ${sock}, dashboard: false }\n`);
    try {
      expect((await raw({ socketPath: sock }, 'GET', '/')).status).toBe(404);
      expect((await raw({ socketPath: sock }, 'GET', '/app.js')).status).toBe(404);
      expect((await raw({ socketPath: sock }, 'GET', '/stats')).status).toBe(200);
    } finally {
      await off.stop();
    }
  });
});
