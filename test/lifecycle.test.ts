/** The process as an operator runs it: check, serve, SIGHUP reloads, SIGTERM stops. */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dig } from './helpers/dig.js';
import { DnsFixture } from './helpers/dns-fixture.js';
import { BIN, EdgednsProcess } from './helpers/edgedns-process.js';
import { freePort } from './helpers/ports.js';
import { udpExchange } from './helpers/raw-client.js';
import { decode, makeQuery } from './helpers/packets.js';
import { missing } from './helpers/system.js';

const skip = missing('dig');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (err, stdout, stderr) => {
      resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr });
    });
  });
}

const config = (port: number, upstream: string, extra = '') => `
listen:
  - { address: 127.0.0.1, port: ${port} }
zone:
  domain: home.arpa
  records:
    - { name: gw, type: A, value: 10.0.0.1 }
${extra}
upstreams: [${upstream}]
upstream-timeout: 1s
`;

describe('edgedns check', () => {
  it('exits 0 for a valid file and 1 with FILE:LINE:COL key.path: message for a bad one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-check-'));
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(good, config(5353, 'udp://127.0.0.1:53'));
    writeFileSync(bad, 'zone:\n  domain: home.arpa\n  recordz: []\ncache:\n  size: huge\n');
    expect((await cli(['check', '-c', good])).code).toBe(0);
    const r = await cli(['check', '-c', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([`${bad}:3:3 zone.recordz: unknown key`, `${bad}:5:9 cache.size: expected a size like 64MB; got "huge"`]);
  });

  it('prints help', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('edgedns serve');
  });
});

describe.skipIf(skip)('serve lifecycle', () => {
  let edge: EdgednsProcess | undefined;
  let fixture: DnsFixture | undefined;
  afterEach(async () => {
    await edge?.stop();
    await fixture?.close();
    edge = undefined;
    fixture = undefined;
  });

  it('SIGHUP swaps in a valid file without dropping the cache, and keeps the old one when invalid', async () => {
    fixture = await DnsFixture.start({ answers: { 'up.example': ['192.0.2.80', 300] } });
    const port = await freePort();
    edge = await EdgednsProcess.start(config(port, fixture.url));
    const q = (...a: string[]) => dig(['@127.0.0.1', '-p', String(port), ...a]);
    const first = await q('up.example');
    expect(first.answer[0].ttl).toBe(300);
    expect((await q('new.home.arpa')).status).toBe('NXDOMAIN');

    edge.rewriteConfig(config(port, fixture.url, '    - { name: new, type: A, value: 10.0.0.2 }'));
    let mark = edge.logs.length;
    edge.signal('SIGHUP');
    await edge.waitForLog('config reloaded', 5000, mark);
    expect((await q('new.home.arpa')).answer[0].data).toBe('10.0.0.2');
    await new Promise((r) => setTimeout(r, 1100));
    const cached = await q('up.example');
    expect(cached.answer[0].ttl).toBeLessThan(300); // served from the kept cache
    expect(fixture.seen.filter((s) => s.name === 'up.example')).toHaveLength(1);

    edge.rewriteConfig('zone:\n  domain: home.arpa\n  records: [ { name: x, type: A, value: nope } ]\n');
    mark = edge.logs.length;
    edge.signal('SIGHUP');
    const err = await edge.waitForLog('reload failed', 5000, mark);
    expect(err).toContain('zone.records[0].value');
    expect((await q('new.home.arpa')).answer[0].data).toBe('10.0.0.2');
  });

  it('SIGTERM stops accepting, finishes the query in flight and exits 0', async () => {
    fixture = await DnsFixture.start({ answers: { 'slow.example': ['192.0.2.81', 300] }, delayMs: 300 });
    const port = await freePort();
    edge = await EdgednsProcess.start(config(port, fixture.url));
    const pending = udpExchange(port, makeQuery('slow.example', 'A', { id: 7 }), 3000);
    await new Promise((r) => setTimeout(r, 50));
    const code = edge.stop();
    const reply = await pending;
    expect(reply).not.toBeNull();
    expect(decode(reply!).answers![0].data).toBe('192.0.2.81');
    expect(await code).toBe(0);
    edge = undefined;
  });

  it('npm start runs on the embedded default: home.arpa on 127.0.0.1:5353', async () => {
    const child = spawn('npm', ['start', '--silent'], { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    try {
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      const deadline = Date.now() + 10_000;
      while (!out.includes('edgedns started') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain('udp|127.0.0.1|5353');
      const r = await dig(['@127.0.0.1', '-p', '5353', 'gw.home.arpa']);
      expect(r.answer[0].data).toBe('127.0.0.1');
    } finally {
      process.kill(-child.pid!, 'SIGTERM'); // npm and the server it started, by process group
    }
  });
});
