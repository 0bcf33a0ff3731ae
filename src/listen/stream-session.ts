/**
 * One DNS-over-stream client connection (TCP now, TLS for DoT): RFC 7766 framing across
 * arbitrary chunk boundaries, pipelined queries answered as each is ready (out of order), a
 * cap on queries in flight per connection (reading pauses), and an idle timeout.
 *
 * Answers leave in as few writes as possible, framing included: a chunk of several pipelined
 * queries is answered in one write at its end; answers to lone queries (a DoT client's arrive
 * one TLS record each) and those that came back from upstream wait for the end of the turn
 * (setImmediate) and leave together. Over TLS that is one record instead of one per answer.
 */
import type net from 'node:net';
import { Buffer } from 'node:buffer';
import { FrameReader } from '../dns/framing.js';
import { copyBytes, put16 } from '../dns/bytes.js';
import type { ClientInfo } from '../resolve/query-context.js';
import { PendingReply } from '../resolve/pending-reply.js';
import type { ListenerDeps } from './query-handler.js';

export const MAX_INFLIGHT_PER_CONNECTION = 128;

export class StreamSession {
  inflight = 0;
  lastActive = Date.now();
  private readonly reader = new FrameReader();
  private paused = false;
  /** answers waiting for the write at the end of this chunk or turn */
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushQueued = false;

  constructor(
    readonly sock: net.Socket,
    private readonly client: ClientInfo,
    private readonly refuse: boolean,
    private readonly deps: ListenerDeps,
    idleMs: number,
    private readonly where: string,
  ) {
    sock.setNoDelay(true);
    sock.setTimeout(idleMs, () => {
      if (this.inflight === 0) sock.end();
    });
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', () => sock.destroy()); // resets are routine for clients; nothing to report
  }

  get idle(): boolean {
    return this.inflight === 0;
  }

  private onData(chunk: Buffer): void {
    this.lastActive = Date.now();
    this.reader.push(chunk);
    let n = 0;
    for (let msg = this.reader.next(); msg !== null; msg = this.reader.next(), n++) {
      this.dispatch(Buffer.from(msg)); // own copy: the frame reader's buffer moves on
    }
    // A pipelined batch is answered at once; a lone query waits for the turn's other chunks.
    if (n > 1) this.flush();
    if (this.reader.buffered > 65537) this.sock.destroy(); // cannot be a DNS frame in progress
  }

  private dispatch(msg: Buffer): void {
    const { handler, gate, onError } = this.deps;
    try {
      if (this.refuse) gate.countRefused(this.client.transport);
      const r = this.refuse ? handler.refuse(msg, this.client) : handler.handle(msg, this.client);
      if (r === null) return;
      if (Array.isArray(r)) {
        for (const m of r) this.write(m);
        return;
      }
      if (!(r instanceof PendingReply)) {
        this.write(r);
        return;
      }
      this.inflight++;
      if (this.inflight >= MAX_INFLIGHT_PER_CONNECTION && !this.paused) {
        this.paused = true;
        this.sock.pause();
      }
      r.on((_, b, err) => {
        this.inflight--;
        if (err !== null) {
          onError(err, this.where);
          return;
        }
        if (this.paused && this.inflight < MAX_INFLIGHT_PER_CONNECTION / 2) {
          this.paused = false;
          this.sock.resume();
        }
        if (b !== null) this.write(b);
      }, null);
    } catch (e) {
      onError(e as Error, this.where);
    }
  }

  private write(b: Buffer): void {
    this.lastActive = Date.now();
    this.out.push(b);
    this.outBytes += 2 + b.length;
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(this.flushLater);
  }

  private readonly flushLater = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  /** Everything waiting, framed, in one write. */
  private flush(): void {
    if (this.out.length === 0) return;
    this.flushQueued = false; // a queued flush finds nothing, or what came after
    const buf = Buffer.allocUnsafe(this.outBytes);
    let at = 0;
    for (const m of this.out) {
      put16(buf, at, m.length);
      copyBytes(m, 0, m.length, buf, at + 2);
      at += 2 + m.length;
    }
    this.out = [];
    this.outBytes = 0;
    if (!this.sock.destroyed && this.sock.writable) this.sock.write(buf);
  }
}
