/**
 * DNS over UDP through the native addon: the kernel hands over up to 64 datagrams per
 * recvmmsg, this handles them in one call, and the answers ready by its end leave in one
 * sendmmsg. IP_PKTINFO gives each query's destination address, so a wildcard socket
 * (`address: 0.0.0.0` or `::`) answers from the address it was asked on. Each datagram is
 * handled alone: a bad one is answered or dropped exactly as on node:dgram and never touches
 * the others of its batch.
 */
import { Buffer } from 'node:buffer';
import { ipv4Text, ipv6Text } from './ip-text.js';
import type { NativeUdp } from '../host/native-udp.js';
import { answerUdp, type Listener, type ListenerDeps } from './query-handler.js';
import { PendingReply } from '../resolve/pending-reply.js';
import { copyBytes, copyFromArrayBuffer } from '../dns/bytes.js';
import { closeTurn, openTurn } from '../clock.js';

const RECV_BUFFER = 4 * 1024 * 1024;

export class UdpBatchListener implements Listener {
  readonly id: string;
  readonly io = 'recvmmsg' as const;
  private handle: unknown = null;
  /** the port bound (the configured one, or the kernel's pick for port 0) */
  boundPort = 0;
  /** the batch's datagrams, SLOT bytes apart */
  private rx = new ArrayBuffer(0);
  private meta: Uint8Array = new Uint8Array(0);
  private pending = 0;
  private draining = false;
  private drained: (() => void) | null = null;

  constructor(private readonly address: string, private readonly port: number, private readonly deps: ListenerDeps, private readonly addon: NativeUdp) {
    this.id = `udp|${address}|${port}`;
  }

  async start(): Promise<void> {
    const s = this.addon.open(this.address, this.port, false, RECV_BUFFER, (n) => this.batch(n));
    this.handle = s.handle;
    this.boundPort = s.port;
    this.rx = s.rx;
    this.meta = new Uint8Array(s.meta);
  }

  private batch(n: number): void {
    if (this.draining) return;
    openTurn();
    try {
      for (let i = 0; i < n; i++) {
        try {
          this.one(i);
        } catch (e) {
          this.deps.onError(e as Error, this.id); // a bug, never a crash: this datagram is dropped, the rest go on
        }
      }
    } finally {
      closeTurn();
    }
  }

  private one(i: number): void {
    const { gate } = this.deps;
    const { META, SLOT } = this.addon;
    const meta = this.meta;
    const m = i * META;
    const address = meta[m + 2] === 4 ? ipv4Text(meta, m + 8) : ipv6Text(meta, m + 8);
    const action = gate.check(address, 'udp');
    if (action === 'drop') return;
    const len = meta[m] | (meta[m + 1] << 8);
    // Its own copy: an answer that waits on an upstream reads the query after this batch's slots are reused.
    const msg = Buffer.allocUnsafe(len);
    copyFromArrayBuffer(this.rx, i * SLOT, len, msg, 0);
    const r = answerUdp(this.deps, action, msg, address);
    if (r === null) return;
    if (!(r instanceof PendingReply)) {
      // Message lists (zone transfers) are stream-only: over UDP the resolver answers AXFR with FORMERR.
      this.addon.reply(this.handle, i, r as Buffer);
      return;
    }
    // The client's record, kept until the answer leaves (a pooled copy: slice() made an ArrayBuffer per miss).
    const to = Buffer.allocUnsafe(META);
    copyBytes(meta, m, m + META, to, 0);
    this.pending++;
    r.on(this.lateTo, to);
  }

  /**
   * Answers that waited on an upstream arrive one by one, each in its own callback: they are
   * queued and leave together in one sendmmsg at the end of the turn (a sendmsg each cost 12% of
   * the miss path's time, measured).
   */
  private readonly lateTo = (to: Uint8Array, b: Buffer | null, err: Error | null): void => {
    if (err !== null) this.deps.onError(err, this.id);
    if (b !== null && this.handle !== null) {
      this.addon.queueTo(this.handle, to, b);
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(this.flushLate);
      }
    }
    if (--this.pending === 0 && this.drained) this.drained();
  };

  private flushing = false;
  private readonly flushLate = (): void => {
    this.flushing = false;
    if (this.handle !== null) this.addon.flush(this.handle);
  };

  /** [batches, datagrams, sendmmsg calls, sent, send errors] for /stats and /metrics. */
  counts(): { batches: number; datagrams: number; sendCalls: number; sent: number; sendErrors: number } {
    if (this.handle === null) return { batches: 0, datagrams: 0, sendCalls: 0, sent: 0, sendErrors: 0 };
    const [batches, datagrams, sendCalls, sent, sendErrors] = this.addon.stats(this.handle);
    return { batches, datagrams, sendCalls, sent, sendErrors };
  }

  /** Ignore new queries, send the replies still owed (up to 5 s), then close. */
  async close(): Promise<void> {
    if (this.handle === null) return;
    this.draining = true;
    if (this.pending > 0) {
      await new Promise<void>((resolve) => {
        const cap = setTimeout(resolve, 5000);
        this.drained = () => { clearTimeout(cap); resolve(); };
      });
    }
    this.addon.close(this.handle);
    this.handle = null;
  }
}
