/**
 * HTTP/2 abuse against the DoH listener, frame by frame: the frames are written by hand
 * (test/helpers/h2-raw.ts), so the test can send what a client library would refuse to. Each
 * attack must get the GOAWAY or RST_STREAM code RFC 9113 names (or a closed connection), be
 * counted in /metrics, and leave other connections served.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminText } from './helpers/admin-socket.js';
import { makeCerts } from './helpers/certs.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { block, connectH2, F, frame, FrameReader, GET, hpackIndexed, PREFACE, settings, T } from './helpers/h2-raw.js';
import { makeQuery } from './helpers/packets.js';
import { freePort } from './helpers/ports.js';
import { missing } from './helpers/system.js';
import { HpackDecoder } from '../src/listen/h2/hpack.js';

const skip = missing('openssl');
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Array<{ name: string; metrics: Array<{ labels?: Record<string, string>; value?: string }> }>;

const CODE = { NO_ERROR: 0, PROTOCOL_ERROR: 1, FLOW_CONTROL_ERROR: 3, FRAME_SIZE_ERROR: 6, REFUSED_STREAM: 7, COMPRESSION_ERROR: 9, ENHANCE_YOUR_CALM: 11 };

describe.skipIf(skip)('DoH over HTTP/2 under abuse', () => {
  let edge: EdgednsProcess;
  let port: number;
  let socket: string;
  const query = makeQuery('printer.home.arpa').toString('base64url');
  const path = `/dns-query?dns=${query}`;

  /** A connection past the preface, with our SETTINGS sent (and theirs read). */
  async function session(extra: Buffer[] = []): Promise<FrameReader> {
    const s = await connectH2(port);
    const r = new FrameReader(s);
    s.write(Buffer.concat([PREFACE, settings(), ...extra]));
    return r;
  }

  /** A normal request on a fresh connection: the server still answers. */
  async function stillServes(): Promise<void> {
    const r = await session([frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, block(GET(path)))]);
    const data = await r.waitFor((f) => f.type === T.DATA && f.stream === 1);
    expect(data?.flags! & F.END_STREAM).toBe(F.END_STREAM);
    expect(data!.payload.readUInt16BE(6)).toBe(1); // one answer
    r.sock.destroy();
  }

  async function refused(reason: string): Promise<number> {
    const families = parsePrometheus(await adminText(socket, '/metrics'));
    const m = families.find((f) => f.name === 'edgedns_doh_h2_refused_total')?.metrics.find((x) => x.labels?.reason === reason);
    return Number(m?.value ?? 0);
  }

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-h2abuse-'));
    const certs = makeCerts(['localhost'], dir);
    port = await freePort();
    socket = join(dir, 'admin.sock');
    edge = await EdgednsProcess.start(`
listen: [{ address: 127.0.0.1, port: ${await freePort()}, protocols: [udp, doh], doh-port: ${port} }]
tls: { cert: ${certs.cert}, key: ${certs.key} }
zone:
  domain: home.arpa
  records: [{ name: printer, type: A, value: 10.0.0.9 }]
upstreams: [udp://127.0.0.1:1]
admin: { socket: ${socket} }
`, { configDir: dir });
    expect(readFileSync(certs.cert, 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  afterAll(async () => {
    await edge?.stop();
  });

  it('answers a hand-written request: SETTINGS first, then one HEADERS and one DATA with END_STREAM', async () => {
    const r = await session([frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, block(GET(path)))]);
    const first = await r.waitFor(() => true);
    expect(first?.type).toBe(T.SETTINGS);
    const headers = await r.waitFor((f) => f.type === T.HEADERS && f.stream === 1);
    expect(headers?.payload[0]).toBe(0x88); // :status 200 from the static table
    const data = r.frames.filter((f) => f.type === T.DATA && f.stream === 1);
    expect(data).toHaveLength(1);
    expect(data[0].flags & F.END_STREAM).toBe(F.END_STREAM);
    r.sock.destroy();
  });

  it('a bad connection preface: GOAWAY PROTOCOL_ERROR, closed', async () => {
    const s = await connectH2(port);
    const r = new FrameReader(s);
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await r.goaway()).toBe(CODE.PROTOCOL_ERROR);
    expect(await r.closedWithin()).toBe(true);
    expect(await refused('badPreface')).toBeGreaterThanOrEqual(1);
    await stillServes();
  });

  it('a frame over SETTINGS_MAX_FRAME_SIZE: GOAWAY FRAME_SIZE_ERROR', async () => {
    const r = await session([frame(T.HEADERS, F.END_HEADERS, 1, Buffer.alloc(16_385))]);
    expect(await r.goaway()).toBe(CODE.FRAME_SIZE_ERROR);
    expect(await r.closedWithin()).toBe(true);
    expect(await refused('frameSize')).toBeGreaterThanOrEqual(1);
    await stillServes();
  });

  it('the CONTINUATION flood: a header block that keeps growing gets GOAWAY ENHANCE_YOUR_CALM at 16 KB', async () => {
    const s = await connectH2(port);
    const r = new FrameReader(s);
    s.write(Buffer.concat([PREFACE, settings(), frame(T.HEADERS, 0, 1, block(GET(path)))]));
    // Never END_HEADERS: 4 KB of header bytes at a time, far more than the limit.
    const piece = block([['x-flood', 'a'.repeat(4000)]]);
    for (let i = 0; i < 64 && !r.closed; i++) s.write(frame(T.CONTINUATION, 0, 1, piece));
    expect(await r.goaway()).toBe(CODE.ENHANCE_YOUR_CALM);
    expect(await r.closedWithin()).toBe(true);
    expect(await refused('continuationFlood')).toBeGreaterThanOrEqual(1);
    await stillServes();
  });

  it('HPACK abuse: a list decoded far past 16 KB from a tiny block gets 431; a table above 4096 bytes is a COMPRESSION_ERROR', async () => {
    // One 4,000-byte header into the dynamic table, then referenced eight times at one byte each.
    const big = block([['x-big', 'b'.repeat(4000)]], { index: true });
    const refs = Buffer.concat(Array.from({ length: 8 }, () => hpackIndexed(62)));
    const r = await session([frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.concat([block(GET(path)), big, refs]))]);
    const h = await r.waitFor((f) => f.type === T.HEADERS && f.stream === 1);
    expect(new HpackDecoder().decode(h!.payload).headers[0]).toEqual([':status', '431']);
    // the connection stays usable: the table is in step
    r.sock.write(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 3, block(GET(path))));
    expect(await r.waitFor((f) => f.type === T.DATA && f.stream === 3)).toBeDefined();
    r.sock.destroy();
    expect(await refused('headerList')).toBeGreaterThanOrEqual(1);

    const t = await session([frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.concat([Buffer.from([0x3f, 0xe2, 0x1f]), block(GET(path))]))]);
    expect(await t.goaway()).toBe(CODE.COMPRESSION_ERROR);
    expect(await refused('hpack')).toBeGreaterThanOrEqual(1);
    await stillServes();
  });

  it('rapid reset (CVE-2023-44487): HEADERS then RST_STREAM, over and over, gets GOAWAY ENHANCE_YOUR_CALM', async () => {
    const s = await connectH2(port);
    const r = new FrameReader(s);
    const frames = [PREFACE, settings()];
    for (let id = 1; id < 600; id += 2) {
      frames.push(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, id, block(GET(path))), frame(T.RST_STREAM, 0, id, [0, 0, 0, 8]));
    }
    s.write(Buffer.concat(frames));
    expect(await r.goaway()).toBe(CODE.ENHANCE_YOUR_CALM);
    expect(await refused('rapidReset')).toBeGreaterThanOrEqual(1);
    await stillServes();
  });

  it('PING and SETTINGS floods get GOAWAY ENHANCE_YOUR_CALM', async () => {
    const pings = await session(Array.from({ length: 300 }, (_, i) => frame(T.PING, 0, 0, Buffer.alloc(8, i))));
    expect(await pings.goaway()).toBe(CODE.ENHANCE_YOUR_CALM);
    expect(pings.frames.filter((f) => f.type === T.PING && f.flags === F.ACK).length).toBeLessThanOrEqual(100);
    const sets = await session(Array.from({ length: 300 }, () => settings([[4, 65535]])));
    expect(await sets.goaway()).toBe(CODE.ENHANCE_YOUR_CALM);
    expect(await refused('pingFlood')).toBeGreaterThanOrEqual(1);
    expect(await refused('settingsFlood')).toBeGreaterThanOrEqual(1);
    await stillServes();
  });

  it('a stream ID that goes backwards (or is even) gets GOAWAY PROTOCOL_ERROR', async () => {
    const back = await session([
      frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 5, block(GET(path))),
      frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 3, block(GET(path))),
    ]);
    expect(await back.goaway()).toBe(CODE.PROTOCOL_ERROR);
    expect(await refused('streamIdBackwards')).toBeGreaterThanOrEqual(1);
    const even = await session([frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 2, block(GET(path)))]);
    expect(await even.goaway()).toBe(CODE.PROTOCOL_ERROR);
    await stillServes();
  });

  it('more than 100 streams at once: RST_STREAM REFUSED_STREAM for the rest', async () => {
    // A window of 0: no answer can leave, so every stream stays open.
    const frames = [settings([[4, 0]])];
    for (let id = 1; id <= 221; id += 2) frames.push(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, id, block(GET(path))));
    const r = await session(frames);
    const rst = await r.waitFor((f) => f.type === T.RST_STREAM);
    expect(rst?.payload.readUInt32BE(0)).toBe(CODE.REFUSED_STREAM);
    expect(rst?.stream).toBe(201); // the 101st
    r.sock.destroy();
    await stillServes();
  });

  it('a client that never opens its window gets no DATA (memory stays bounded), and all of it once it does', async () => {
    const frames = [settings([[4, 0]])];
    for (let id = 1; id <= 99; id += 2) frames.push(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, id, block(GET(path))));
    const r = await session(frames);
    await r.waitFor((f) => f.type === T.HEADERS && f.stream === 99);
    await new Promise((res) => setTimeout(res, 200));
    expect(r.frames.filter((f) => f.type === T.DATA)).toHaveLength(0);
    await stillServes(); // meanwhile, others are served
    r.sock.write(settings([[4, 65535]]));
    await r.waitFor((f) => f.type === T.DATA && f.stream === 99);
    expect(r.frames.filter((f) => f.type === T.DATA)).toHaveLength(50);
    r.sock.destroy();
  });
});
