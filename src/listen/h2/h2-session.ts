/**
 * One HTTP/2 connection (RFC 9113) for DoH: the frames DoH needs and nothing more. Requests are
 * short (a GET, or a POST of at most 64 KB), answers are one HEADERS and one DATA frame. Every
 * way a client can make a server do work or hold memory it should not is bounded here, and each
 * is answered with the code RFC 9113 names and counted:
 *
 * - a bad connection preface, a frame over SETTINGS_MAX_FRAME_SIZE: GOAWAY (PROTOCOL_ERROR,
 *   FRAME_SIZE_ERROR), connection closed;
 * - a header block over 16 KB, however many CONTINUATION frames carry it: GOAWAY
 *   ENHANCE_YOUR_CALM (the CONTINUATION flood); HPACK that does not decode or grows the table
 *   past what we advertised: GOAWAY COMPRESSION_ERROR; a decoded list over 16 KB: 431;
 * - more than 100 streams at once: RST_STREAM REFUSED_STREAM; more than 100 resets, PINGs or
 *   SETTINGS a second (rapid reset, floods): GOAWAY ENHANCE_YOUR_CALM;
 * - a stream ID that goes backwards or is even: GOAWAY PROTOCOL_ERROR;
 * - a client that never reads: answers wait for its window (bounded by the stream limit), and
 *   once 1 MB waits unwritten in the socket the connection is closed.
 */
import type { Duplex } from 'node:stream';
import { encodeResponse, HEADER_TABLE_SIZE, HpackDecoder, HpackError } from './hpack.js';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const LIMITS = {
  maxFrameSize: 16_384,
  maxHeaderBlock: 16_384,
  maxHeaderList: 16_384,
  maxStreams: 100,
  /** resets, PINGs, SETTINGS a client may send per second */
  perSecond: 100,
  maxBody: 65_535,
  maxUnwritten: 1024 * 1024,
};

const enum Type { DATA = 0, HEADERS = 1, PRIORITY = 2, RST_STREAM = 3, SETTINGS = 4, PUSH_PROMISE = 5, PING = 6, GOAWAY = 7, WINDOW_UPDATE = 8, CONTINUATION = 9 }
export enum Code { NO_ERROR = 0, PROTOCOL_ERROR = 1, INTERNAL_ERROR = 2, FLOW_CONTROL_ERROR = 3, STREAM_CLOSED = 5, FRAME_SIZE_ERROR = 6, REFUSED_STREAM = 7, CANCEL = 8, COMPRESSION_ERROR = 9, ENHANCE_YOUR_CALM = 11 }
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY_FLAG = 0x20;
const DEFAULT_WINDOW = 65_535;
const MAX_WINDOW = 2 ** 31 - 1;
/** bytes a client may still upload to a stream we already answered, before RST_STREAM NO_ERROR */
const DRAIN_LIMIT = 256 * 1024;
/** the connection window we open at start: room for many POSTs in flight */
const CONNECTION_WINDOW = 1024 * 1024;

/** Why connections and streams were refused, for /metrics. */
export interface H2Counters {
  [reason: string]: number;
}

export interface H2Request {
  method: string;
  path: string;
  accept: string;
  contentType: string;
  contentLength: number;
  /** the POST body, or null when it was over the limit */
  body: Buffer | null;
}

export interface H2Responder {
  respond(status: number, headers: Record<string, string | number>, body: Buffer): void;
}

interface Stream {
  id: number;
  /** the client has sent END_STREAM */
  remoteDone: boolean;
  closed: boolean;
  req: H2Request | null;
  chunks: Buffer[];
  bodyLength: number;
  recvWindow: number;
  sendWindow: number;
  /** DATA still to send (waiting for window) */
  pending: Buffer | null;
  /** handed to the DoH handler (once) */
  dispatched: boolean;
}

function frameHeader(len: number, type: number, flags: number, stream: number): Buffer {
  const h = Buffer.allocUnsafe(9);
  h[0] = len >>> 16;
  h[1] = (len >>> 8) & 0xff;
  h[2] = len & 0xff;
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return h;
}

class ConnectionError extends Error {
  constructor(readonly code: Code, readonly reason: string) {
    super(reason);
  }
}

export class H2Session {
  private buf: Buffer | null = null;
  private prefaceSeen = false;
  private readonly hpack = new HpackDecoder();
  private readonly streams = new Map<number, Stream>();
  private lastStream = 0;
  private open = 0;
  /** a header block being continued: its stream, the first frame's flags, the fragments */
  private continuing: { id: number; flags: number; parts: Buffer[]; size: number } | null = null;
  private sendWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = 16_384;
  private out: Buffer[] = [];
  private flushScheduled = false;
  private goingAway = false;
  private second = { at: 0, resets: 0, pings: 0, settings: 0 };

  constructor(
    private readonly sock: Duplex & { writableLength: number; destroyed: boolean },
    private readonly onRequest: (req: H2Request, res: H2Responder) => void,
    private readonly counters: H2Counters,
  ) {
    // Our SETTINGS: streams at once, header list, no push; then a bigger connection window.
    const s = Buffer.allocUnsafe(18);
    s.writeUInt16BE(0x3, 0); s.writeUInt32BE(LIMITS.maxStreams, 2); // MAX_CONCURRENT_STREAMS
    s.writeUInt16BE(0x6, 6); s.writeUInt32BE(LIMITS.maxHeaderList, 8); // MAX_HEADER_LIST_SIZE
    s.writeUInt16BE(0x1, 12); s.writeUInt32BE(HEADER_TABLE_SIZE, 14); // HEADER_TABLE_SIZE
    const wu = Buffer.allocUnsafe(4);
    wu.writeUInt32BE(CONNECTION_WINDOW - DEFAULT_WINDOW, 0);
    this.queue(frameHeader(18, Type.SETTINGS, 0, 0), s, frameHeader(4, Type.WINDOW_UPDATE, 0, 0), wu);
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', () => undefined);
  }

  private count(reason: string): void {
    this.counters[reason] = (this.counters[reason] ?? 0) + 1;
  }

  private queue(...parts: Buffer[]): void {
    for (const p of parts) this.out.push(p);
    // Everything this turn produces (answers to every chunk read, upstream answers) leaves
    // together at its end: measured faster than a write per chunk, with 10 or 100 connections.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Everything queued in this turn leaves in one write. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.sock.destroyed) {
      this.out = [];
      return;
    }
    const data = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out);
    this.out = [];
    this.sock.write(data);
    if (this.sock.writableLength > LIMITS.maxUnwritten) {
      this.count('slowReader');
      this.sock.destroy();
    }
  }

  private onData(d: Buffer): void {
    let b = this.buf === null ? d : Buffer.concat([this.buf, d]);
    this.buf = null;
    try {
      if (!this.prefaceSeen) {
        if (b.length < PREFACE.length) {
          if (!PREFACE.subarray(0, b.length).equals(b)) throw new ConnectionError(Code.PROTOCOL_ERROR, 'badPreface');
          this.buf = b;
          return;
        }
        if (!b.subarray(0, PREFACE.length).equals(PREFACE)) throw new ConnectionError(Code.PROTOCOL_ERROR, 'badPreface');
        this.prefaceSeen = true;
        b = b.subarray(PREFACE.length);
      }
      let at = 0;
      while (b.length - at >= 9 && !this.goingAway) {
        const len = (b[at] << 16) | (b[at + 1] << 8) | b[at + 2];
        if (len > LIMITS.maxFrameSize) throw new ConnectionError(Code.FRAME_SIZE_ERROR, 'frameSize');
        if (b.length - at < 9 + len) break;
        const type = b[at + 3];
        const flags = b[at + 4];
        const id = b.readUInt32BE(at + 5) & 0x7fffffff;
        this.frame(type, flags, id, b.subarray(at + 9, at + 9 + len));
        at += 9 + len;
      }
      if (at < b.length && !this.goingAway) this.buf = Buffer.from(b.subarray(at)); // own copy: the socket's chunk is not kept
    } catch (e) {
      if (e instanceof ConnectionError) this.goaway(e.code, e.reason);
      else throw e;
    }
  }

  private rate(kind: 'resets' | 'pings' | 'settings'): void {
    const now = Date.now();
    if (now - this.second.at >= 1000) this.second = { at: now, resets: 0, pings: 0, settings: 0 };
    if (++this.second[kind] > LIMITS.perSecond) {
      throw new ConnectionError(Code.ENHANCE_YOUR_CALM, kind === 'resets' ? 'rapidReset' : kind === 'pings' ? 'pingFlood' : 'settingsFlood');
    }
  }

  private frame(type: number, flags: number, id: number, p: Buffer): void {
    if (this.continuing !== null && (type !== Type.CONTINUATION || id !== this.continuing.id)) {
      throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
    }
    switch (type) {
      case Type.DATA: return this.data(flags, id, p);
      case Type.HEADERS: return this.headers(flags, id, p);
      case Type.CONTINUATION: return this.continuation(flags, id, p);
      case Type.PRIORITY:
        if (id === 0) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
        if (p.length !== 5) this.reset(id, Code.FRAME_SIZE_ERROR, 'frameSize');
        return;
      case Type.RST_STREAM: {
        if (id === 0) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
        if (p.length !== 4) throw new ConnectionError(Code.FRAME_SIZE_ERROR, 'frameSize');
        if (id > this.lastStream) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol'); // an idle stream
        this.rate('resets');
        const s = this.streams.get(id);
        if (s) this.close(s);
        return;
      }
      case Type.SETTINGS: return this.settings(flags, id, p);
      case Type.PUSH_PROMISE: throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol'); // clients never push
      case Type.PING:
        if (id !== 0) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
        if (p.length !== 8) throw new ConnectionError(Code.FRAME_SIZE_ERROR, 'frameSize');
        if (flags & ACK) return;
        this.rate('pings');
        this.queue(frameHeader(8, Type.PING, ACK, 0), Buffer.from(p));
        return;
      case Type.GOAWAY:
        // The client is done: answer what it asked, take nothing new, then close.
        this.goingAway = true;
        if (this.open === 0) this.sock.end();
        return;
      case Type.WINDOW_UPDATE: return this.windowUpdate(id, p);
      default: return; // unknown frame types are ignored (§5.5)
    }
  }

  private settings(flags: number, id: number, p: Buffer): void {
    if (id !== 0) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
    if (flags & ACK) {
      if (p.length !== 0) throw new ConnectionError(Code.FRAME_SIZE_ERROR, 'frameSize');
      return;
    }
    if (p.length % 6 !== 0) throw new ConnectionError(Code.FRAME_SIZE_ERROR, 'frameSize');
    this.rate('settings');
    for (let i = 0; i < p.length; i += 6) {
      const key = p.readUInt16BE(i);
      const v = p.readUInt32BE(i + 2);
      if (key === 0x2 && v > 1) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
      if (key === 0x4) {
        if (v > MAX_WINDOW) throw new ConnectionError(Code.FLOW_CONTROL_ERROR, 'flowControl');
        const delta = v - this.peerInitialWindow;
        this.peerInitialWindow = v;
        for (const s of this.streams.values()) s.sendWindow += delta;
      }
      if (key === 0x5) {
        if (v < 16_384 || v > 16_777_215) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
        this.peerMaxFrame = v;
      }
    }
    this.queue(frameHeader(0, Type.SETTINGS, ACK, 0));
    this.pump();
  }

  private windowUpdate(id: number, p: Buffer): void {
    if (p.length !== 4) throw new ConnectionError(Code.FRAME_SIZE_ERROR, 'frameSize');
    const inc = p.readUInt32BE(0) & 0x7fffffff;
    if (id === 0) {
      if (inc === 0) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
      this.sendWindow += inc;
      if (this.sendWindow > MAX_WINDOW) throw new ConnectionError(Code.FLOW_CONTROL_ERROR, 'flowControl');
    } else {
      const s = this.streams.get(id);
      if (s === undefined) return; // a closed stream: allowed to arrive late
      if (inc === 0) return this.reset(id, Code.PROTOCOL_ERROR, 'protocol');
      s.sendWindow += inc;
      if (s.sendWindow > MAX_WINDOW) return this.reset(id, Code.FLOW_CONTROL_ERROR, 'flowControl');
    }
    this.pump();
  }

  /** Strip padding (and a HEADERS frame's priority fields); null when the padding is longer than the frame. */
  private static unpad(flags: number, p: Buffer, priority: boolean): Buffer | null {
    let start = 0;
    let end = p.length;
    if (flags & PADDED) {
      if (p.length < 1) return null;
      end -= p[0];
      start = 1;
    }
    if (priority) start += 5;
    return start > end ? null : p.subarray(start, end);
  }

  private headers(flags: number, id: number, p: Buffer): void {
    if (id === 0 || (id & 1) === 0) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
    const frag = H2Session.unpad(flags, p, (flags & PRIORITY_FLAG) !== 0);
    if (frag === null) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
    const existing = this.streams.get(id);
    if (existing === undefined) {
      // A new stream must have a higher ID than every one before it (§5.1.1).
      if (id <= this.lastStream) throw new ConnectionError(Code.PROTOCOL_ERROR, 'streamIdBackwards');
      this.lastStream = id;
    } else if (existing.remoteDone) throw new ConnectionError(Code.STREAM_CLOSED, 'protocol');
    if (flags & END_HEADERS) return this.headerBlock(id, flags, frag);
    if (frag.length > LIMITS.maxHeaderBlock) throw new ConnectionError(Code.ENHANCE_YOUR_CALM, 'headerBlock');
    this.continuing = { id, flags, parts: [Buffer.from(frag)], size: frag.length };
  }

  private continuation(flags: number, id: number, p: Buffer): void {
    const c = this.continuing;
    if (c === null) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
    c.size += p.length;
    // The 2024 CONTINUATION flood: a header block that never ends, or ends far too big.
    if (c.size > LIMITS.maxHeaderBlock) throw new ConnectionError(Code.ENHANCE_YOUR_CALM, 'continuationFlood');
    c.parts.push(Buffer.from(p));
    if (flags & END_HEADERS) {
      this.continuing = null;
      this.headerBlock(id, c.flags, Buffer.concat(c.parts));
    }
  }

  private headerBlock(id: number, flags: number, block: Buffer): void {
    let list;
    try {
      list = this.hpack.decode(block); // always decoded: the table must stay in step even for a refused stream
    } catch (e) {
      if (e instanceof HpackError) throw new ConnectionError(Code.COMPRESSION_ERROR, 'hpack');
      throw e;
    }
    const existing = this.streams.get(id);
    if (existing !== undefined) {
      // trailers: they end the request; their content is not used
      if (!(flags & END_STREAM)) return this.reset(id, Code.PROTOCOL_ERROR, 'protocol');
      existing.remoteDone = true;
      return this.dispatch(existing);
    }
    if (this.goingAway) return;
    if (this.open >= LIMITS.maxStreams) return this.reset(id, Code.REFUSED_STREAM, 'refusedStream');
    const s: Stream = {
      id, remoteDone: (flags & END_STREAM) !== 0, closed: false, req: null, chunks: [], bodyLength: 0,
      recvWindow: DEFAULT_WINDOW, sendWindow: this.peerInitialWindow, pending: null, dispatched: false,
    };
    this.streams.set(id, s);
    this.open++;
    if (list.size > LIMITS.maxHeaderList) {
      this.count('headerList');
      return this.send(s, 431, { 'content-type': 'text/plain; charset=utf-8' }, Buffer.from('header list too large\n'));
    }
    let method = '';
    let path = '';
    let scheme = '';
    let accept = '';
    let contentType = '';
    let contentLength = 0;
    for (const [name, value] of list.headers) {
      switch (name) {
        case ':method': method = value; break;
        case ':path': path = value; break;
        case ':scheme': scheme = value; break;
        case 'accept': accept = accept ? `${accept}, ${value}` : value; break;
        case 'content-type': contentType = value; break;
        case 'content-length': contentLength = Number(value) || 0; break;
        default: break;
      }
    }
    // §8.3.1: a request has :method, :scheme and :path (CONNECT aside, which DoH has no use for)
    if (!method || !path || !scheme) return this.reset(id, Code.PROTOCOL_ERROR, 'protocol');
    s.req = { method, path, accept, contentType, contentLength, body: null };
    // A body announced too big is answered (413) before it is sent, not waited for.
    if (s.remoteDone || contentLength > LIMITS.maxBody) this.dispatch(s);
  }

  private data(flags: number, id: number, p: Buffer): void {
    if (id === 0) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
    // Flow control counts the whole frame, padding included; give the connection its bytes back at once.
    if (p.length > 0) {
      const wu = Buffer.allocUnsafe(4);
      wu.writeUInt32BE(p.length, 0);
      this.queue(frameHeader(4, Type.WINDOW_UPDATE, 0, 0), wu);
    }
    const s = this.streams.get(id);
    if (s === undefined || s.remoteDone) {
      if (id > this.lastStream) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
      const drained = s === undefined ? this.answeredEarly.get(id) : undefined;
      if (drained !== undefined) return this.drain(id, drained, flags, p.length);
      return this.reset(id, Code.STREAM_CLOSED, 'protocol');
    }
    s.recvWindow -= p.length;
    if (s.recvWindow < 0) return this.reset(id, Code.FLOW_CONTROL_ERROR, 'flowControl');
    const body = H2Session.unpad(flags, p, false);
    if (body === null) throw new ConnectionError(Code.PROTOCOL_ERROR, 'protocol');
    if (s.dispatched) {
      // handed over already (its body was too big): drop the rest, and let the client finish sending
      if (flags & END_STREAM) s.remoteDone = true;
      else this.streamWindow(id, p.length);
      return;
    }
    s.bodyLength += body.length;
    if (s.bodyLength <= LIMITS.maxBody) s.chunks.push(Buffer.from(body));
    if (flags & END_STREAM) s.remoteDone = true;
    if (s.remoteDone || s.bodyLength > LIMITS.maxBody) this.dispatch(s);
  }

  private dispatch(s: Stream): void {
    const req = s.req;
    if (req === null || s.closed || s.dispatched) return;
    s.dispatched = true;
    if (req.method === 'POST') req.body = s.bodyLength > LIMITS.maxBody ? null : s.chunks.length === 1 ? s.chunks[0] : Buffer.concat(s.chunks);
    s.chunks = [];
    this.onRequest(req, { respond: (status, headers, body) => this.send(s, status, headers, body) });
  }

  private send(s: Stream, status: number, headers: Record<string, string | number>, body: Buffer): void {
    if (s.closed || this.sock.destroyed) return;
    const block = encodeResponse(status, headers, body.length);
    // Our header blocks are a few dozen bytes: one HEADERS frame, never CONTINUATION.
    this.queue(frameHeader(block.length, Type.HEADERS, END_HEADERS | (body.length === 0 ? END_STREAM : 0), s.id), block);
    if (body.length === 0) return this.close(s);
    s.pending = body;
    this.pump();
  }

  /** Send what the windows allow: DATA frames up to the peer's frame size, END_STREAM on the last. */
  private pump(): void {
    for (const s of this.streams.values()) {
      let body: Buffer | null = s.pending;
      if (body === null) continue;
      while (body !== null && body.length > 0) {
        const n = Math.min(body.length, this.peerMaxFrame, this.sendWindow, s.sendWindow);
        if (n <= 0) break;
        const last: boolean = n === body.length;
        this.queue(frameHeader(n, Type.DATA, last ? END_STREAM : 0, s.id), body.subarray(0, n));
        this.sendWindow -= n;
        s.sendWindow -= n;
        body = last ? null : body.subarray(n);
      }
      s.pending = body;
      if (body === null) this.close(s); // the answer is out (a client still sending gets STREAM_CLOSED)
    }
  }

  private reset(id: number, code: Code, reason: string): void {
    this.count(reason);
    const p = Buffer.allocUnsafe(4);
    p.writeUInt32BE(code, 0);
    this.queue(frameHeader(4, Type.RST_STREAM, 0, id), p);
    const s = this.streams.get(id);
    if (s) this.close(s);
  }

  /**
   * Streams answered (413) before the client finished sending, and the bytes dropped since: the
   * client may finish its upload (curl fails a request whose upload is cut short), up to 256 KB;
   * then RST_STREAM NO_ERROR tells it to stop (§8.1).
   */
  private readonly answeredEarly = new Map<number, number>();

  private drain(id: number, dropped: number, flags: number, len: number): void {
    if (flags & END_STREAM) {
      this.answeredEarly.delete(id);
      return;
    }
    if (dropped + len > DRAIN_LIMIT) {
      this.answeredEarly.delete(id);
      this.queue(frameHeader(4, Type.RST_STREAM, 0, id), Buffer.alloc(4));
      return;
    }
    this.answeredEarly.set(id, dropped + len);
    this.streamWindow(id, len);
  }

  private streamWindow(id: number, len: number): void {
    if (len <= 0) return;
    const wu = Buffer.allocUnsafe(4);
    wu.writeUInt32BE(len, 0);
    this.queue(frameHeader(4, Type.WINDOW_UPDATE, 0, id), wu);
  }

  private close(s: Stream): void {
    if (s.closed) return;
    s.closed = true;
    s.pending = null;
    if (!s.remoteDone) {
      this.answeredEarly.set(s.id, 0);
      if (this.answeredEarly.size > LIMITS.maxStreams) this.answeredEarly.delete(this.answeredEarly.keys().next().value!);
      this.streamWindow(s.id, s.bodyLength); // what it sent so far used its window: give it back so it can finish
    }
    this.streams.delete(s.id);
    this.open--;
    if (this.goingAway && this.open === 0) setImmediate(() => this.sock.end());
  }

  /** Connection error (§5.4.1): GOAWAY with the last stream we took, then close. */
  goaway(code: Code, reason: string | null): void {
    if (this.goingAway && code !== Code.NO_ERROR) {
      this.sock.destroy();
      return;
    }
    if (reason !== null) this.count(reason);
    this.goingAway = true;
    this.continuing = null;
    const p = Buffer.allocUnsafe(8);
    p.writeUInt32BE(this.lastStream, 0);
    p.writeUInt32BE(code, 4);
    this.queue(frameHeader(8, Type.GOAWAY, 0, 0), p);
    setImmediate(() => {
      this.flush();
      if (code !== Code.NO_ERROR || this.open === 0) this.sock.end();
      setTimeout(() => this.sock.destroy(), 1000).unref();
    });
  }
}
