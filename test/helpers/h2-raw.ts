/**
 * HTTP/2 by hand for tests: frames written byte by byte (so a test can send what a library
 * would refuse to), a frame reader, and a capture of the header blocks Node's own client
 * (nghttp2) writes.
 */
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const T = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const F = { END_STREAM: 1, ACK: 1, END_HEADERS: 4, PADDED: 8, PRIORITY: 0x20 } as const;

export function frame(type: number, flags: number, stream: number, payload: Buffer | number[] = []): Buffer {
  const p = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const h = Buffer.alloc(9);
  h.writeUIntBE(p.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, p]);
}

export function settings(pairs: Array<[number, number]> = []): Buffer {
  const p = Buffer.alloc(pairs.length * 6);
  pairs.forEach(([id, v], i) => { p.writeUInt16BE(id, i * 6); p.writeUInt32BE(v, i * 6 + 2); });
  return frame(T.SETTINGS, 0, 0, p);
}

export interface Frame { type: number; flags: number; stream: number; payload: Buffer }

/** Reads frames from a connection (after the server's part of the preface, which is frames too). */
export class FrameReader {
  readonly frames: Frame[] = [];
  closed = false;
  private buf = Buffer.alloc(0);

  constructor(readonly sock: net.Socket | tls.TLSSocket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 9) {
        const len = this.buf.readUIntBE(0, 3);
        if (this.buf.length < 9 + len) break;
        this.frames.push({ type: this.buf[3], flags: this.buf[4], stream: this.buf.readUInt32BE(5) & 0x7fffffff, payload: this.buf.subarray(9, 9 + len) });
        this.buf = this.buf.subarray(9 + len);
      }
    });
    sock.on('close', () => { this.closed = true; });
    sock.on('error', () => undefined);
  }

  async waitFor(pred: (f: Frame) => boolean, ms = 3000): Promise<Frame | undefined> {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 10))) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (this.closed) break;
    }
    return this.frames.find(pred);
  }

  /** The GOAWAY's error code, once one arrives. */
  async goaway(ms = 3000): Promise<number | undefined> {
    const f = await this.waitFor((x) => x.type === T.GOAWAY, ms);
    return f?.payload.readUInt32BE(4);
  }

  async closedWithin(ms = 3000): Promise<boolean> {
    for (const end = Date.now() + ms; Date.now() < end && !this.closed; await new Promise((r) => setTimeout(r, 10)));
    return this.closed;
  }
}

/** A TLS connection with ALPN h2 (certificates from a test CA: not verified here). */
export function connectH2(port: number, host = '127.0.0.1'): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, ALPNProtocols: ['h2'], rejectUnauthorized: false, servername: 'localhost' }, () => resolve(s));
    s.once('error', reject);
  });
}

/** The header blocks nghttp2 (Node's HTTP/2 client) writes for these requests, in order. */
export async function captureClientBlocks(requests: Array<Record<string, string>>): Promise<Buffer[]> {
  const blocks: Buffer[] = [];
  let done: () => void = () => undefined;
  const all = new Promise<void>((r) => { done = r; });
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    let started = false;
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!started && buf.length >= 24) { buf = buf.subarray(24); started = true; sock.write(settings()); }
      while (started && buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        if (buf[3] === T.HEADERS) blocks.push(Buffer.from(buf.subarray(9, 9 + len)));
        buf = buf.subarray(9 + len);
        if (blocks.length === requests.length) done();
      }
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  client.on('error', () => undefined);
  for (const h of requests) client.request(h, { endStream: true }).on('error', () => undefined);
  await all;
  client.destroy();
  server.close();
  return blocks;
}

function hpackInt(out: number[], first: number, prefix: number, v: number): void {
  const mask = (1 << prefix) - 1;
  if (v < mask) { out.push(first | v); return; }
  out.push(first | mask);
  v -= mask;
  while (v >= 128) { out.push((v % 128) + 128); v = Math.floor(v / 128); }
  out.push(v);
}

/** A header block of plain literals (never indexed, no Huffman): what a minimal client sends. */
export function block(headers: Array<[string, string]>, opts: { index?: boolean } = {}): Buffer {
  const out: number[] = [];
  for (const [n, v] of headers) {
    out.push(opts.index ? 0x40 : 0x10);
    hpackInt(out, 0, 7, n.length);
    for (const c of Buffer.from(n, 'latin1')) out.push(c);
    hpackInt(out, 0, 7, v.length);
    for (const c of Buffer.from(v, 'latin1')) out.push(c);
  }
  return Buffer.from(out);
}

/** HPACK bytes as given (an index into the tables, a size update, …). */
export function hpackIndexed(index: number): Buffer {
  const out: number[] = [];
  hpackInt(out, 0x80, 7, index);
  return Buffer.from(out);
}

export const GET = (path: string): Array<[string, string]> => [[':method', 'GET'], [':scheme', 'https'], [':path', path], [':authority', 'localhost']];
