/**
 * The native UDP path against real sockets on loopback: batches, a bad datagram amid good ones,
 * answers that wait on I/O, IPv6 sources, SO_REUSEPORT, and the build without a compiler.
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientInfo } from '../resolve/query-context.js';
import { nativeUdp } from '../host/native-udp.js';
import type { ListenerDeps, QueryHandler } from './query-handler.js';
import { PendingReply } from '../resolve/pending-reply.js';
import { UdpBatchListener } from './udp-batch-listener.js';

const NATIVE = fileURLToPath(new URL('../../native/', import.meta.url));
const { addon, why } = nativeUdp();
// CI builds the addon (gcc is on the machine); there, not having it is a failure, not a skip.
if (!addon && process.env.EDGEDNS_REQUIRE_SYSTEM === '1' && process.env.EDGEDNS_UDP_IO !== 'dgram') {
  throw new Error(`EDGEDNS_REQUIRE_SYSTEM=1 but the native UDP addon is not in use: ${why}`);
}
if (!addon) console.warn(`skipping the native UDP tests: ${why} (apt-get install gcc, then npm ci)`);

function deps(handle: QueryHandler['handle'], errors: Error[] = []): ListenerDeps {
  return {
    handler: { handle, refuse: () => null },
    gate: { check: () => 'allow', countRefused: () => undefined } as unknown as ListenerDeps['gate'],
    onError: (e) => errors.push(e),
    limits: () => ({ idleMs: 1000, maxConnections: 10 }),
  };
}

async function client(type: 'udp4' | 'udp6' = 'udp4'): Promise<dgram.Socket> {
  const c = dgram.createSocket(type);
  await new Promise<void>((r) => c.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => r()));
  return c;
}

/** The port a listener took (bound to port 0). */
const portOf = (l: UdpBatchListener) => l.boundPort;

describe.skipIf(!addon)('native UDP: recvmmsg/sendmmsg batches', () => {
  const open: Array<UdpBatchListener | dgram.Socket> = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await (o instanceof UdpBatchListener ? o.close() : new Promise<void>((r) => o.close(() => r())));
  });

  it('answers 200 datagrams sent at once in batches, each to its own sender, a bad one amid them dropped alone', async () => {
    const errors: Error[] = [];
    const seen: ClientInfo[] = [];
    const l = new UdpBatchListener('127.0.0.1', 0, deps((q, c) => {
      seen.push(c);
      if (q.toString() === 'boom') throw new Error('a bug in one datagram');
      return Buffer.concat([Buffer.from('re:'), q]);
    }, errors), addon!);
    await l.start();
    open.push(l);
    const c = await client();
    open.push(c);
    const got = new Set<string>();
    const all = new Promise<void>((resolve) => c.on('message', (m) => { got.add(m.toString()); if (got.size === 199) resolve(); }));
    for (let i = 0; i < 200; i++) c.send(i === 100 ? 'boom' : `q${i}`, portOf(l), '127.0.0.1');
    await all;
    expect(got.has('re:q0') && got.has('re:q199') && got.has('re:q101')).toBe(true);
    expect(errors.map((e) => e.message)).toEqual(['a bug in one datagram']);
    expect(seen[0]).toEqual({ address: '127.0.0.1', transport: 'udp', maxSize: 0, padBlock: 0 });
    const n = l.counts();
    expect(n.datagrams).toBe(200);
    expect(n.batches).toBeLessThan(200); // several datagrams per recvmmsg
    expect(n.sendCalls).toBeLessThan(199); // and per sendmmsg
    expect(n.sent).toBe(199);
  });

  it('an answer that waits on I/O goes out later, to the right client, even after the batch slots were reused', async () => {
    const l = new UdpBatchListener('127.0.0.1', 0, deps((q) => {
      if (q.toString() === 'slow') return PendingReply.from(new Promise((r) => setTimeout(() => r(Buffer.from('late:slow')), 50)));
      return Buffer.from(`re:${q.toString()}`);
    }), addon!);
    await l.start();
    open.push(l);
    const [a, b] = [await client(), await client()];
    open.push(a, b);
    const fromA = new Promise<string>((r) => a.on('message', (m) => r(m.toString())));
    a.send('slow', portOf(l), '127.0.0.1');
    await new Promise((r) => setTimeout(r, 10));
    const fromB = new Promise<string>((r) => b.on('message', (m) => r(m.toString())));
    b.send('fast', portOf(l), '127.0.0.1'); // reuses slot 0 before the slow answer is ready
    expect(await fromB).toBe('re:fast');
    expect(await fromA).toBe('late:slow');
  });

  it('answers that come back in one turn (from upstream) leave together in one sendmmsg', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => { release = r; });
    const l = new UdpBatchListener('127.0.0.1', 0, deps((q) => PendingReply.from(gate.then(() => Buffer.from(`late:${q.toString()}`)))), addon!);
    await l.start();
    open.push(l);
    const c = await client();
    open.push(c);
    const got: string[] = [];
    const all = new Promise<void>((resolve) => c.on('message', (m) => { got.push(m.toString()); if (got.length === 20) resolve(); }));
    for (let i = 0; i < 20; i++) c.send(`q${i}`, l.boundPort, '127.0.0.1');
    for (const end = Date.now() + 2000; l.counts().datagrams < 20 && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
    const before = l.counts().sendCalls;
    release(); // every answer ready in the same turn
    await all;
    expect(got.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `late:q${i}`).sort());
    expect(l.counts().sendCalls - before).toBe(1);
  });

  it('IPv6: the client address as node:dgram writes it', async () => {
    let address = '';
    const l = new UdpBatchListener('::1', 0, deps((q, c) => { address = c.address; return q; }), addon!);
    await l.start();
    open.push(l);
    const c = await client('udp6');
    open.push(c);
    const echoed = new Promise<string>((r) => c.on('message', (m) => r(m.toString())));
    c.send('hi', portOf(l), '::1');
    expect(await echoed).toBe('hi');
    expect(address).toBe('::1');
  });

  it('a port in use is EADDRINUSE, unless both ask for SO_REUSEPORT', async () => {
    const first = addon!.open('127.0.0.1', 0, true, 0, () => undefined);
    try {
      expect(() => addon!.open('127.0.0.1', first.port, false, 0, () => undefined)).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
      const second = addon!.open('127.0.0.1', first.port, true, 0, () => undefined);
      expect(second.port).toBe(first.port);
      addon!.close(second.handle);
    } finally {
      addon!.close(first.handle);
    }
  });
});

describe.skipIf(!addon)('native: trim', () => {
  it('gives back the memory a finished thread freed (glibc keeps it in that thread\'s arena)', async () => {
    const anonKb = () => Number(/RssAnon:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    // 32 MB of 8 KB buffers: past Node's buffer pool, so malloc'd in the worker thread's arena
    const w = new Worker('const a = []; for (let i = 0; i < 4000; i++) a.push(Buffer.alloc(8192, 1)); require("node:worker_threads").parentPort.postMessage(a.length);', { eval: true });
    await new Promise((resolve) => w.once('exit', resolve));
    const before = anonKb();
    expect(addon!.trim()).toBe(true);
    expect(before - anonKb()).toBeGreaterThan(16 * 1024);
  });
});

describe('the native build', () => {
  it('without a compiler says so and exits 0, leaving no addon; with one it builds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-native-'));
    for (const f of ['build.mjs', 'udp-batch.c']) copyFileSync(join(NATIVE, f), join(dir, f));
    const run = (env: Record<string, string>) => execFileSync(process.execPath, [join(dir, 'build.mjs')], { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(() => run({ CC: '/nonexistent/cc' })).not.toThrow();
    expect(existsSync(join(dir, 'build', 'udp_batch.node'))).toBe(false);
    if (addon) {
      run({});
      expect(existsSync(join(dir, 'build', 'udp_batch.node'))).toBe(true);
    }
  });
});
