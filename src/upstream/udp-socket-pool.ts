/**
 * The UDP sockets plain-DNS queries to one upstream leave through: a few connected sockets, each
 * on a kernel-chosen random port, shared by the queries in flight (a random ID each, unique on
 * its socket), and rotated — a socket is retired after so many queries or so long — so the source
 * port keeps changing (RFC 5452) without a socket, bind and connect per query. A retired socket
 * closes once its last query is done. Connected sockets mean the kernel drops datagrams from
 * anyone but the upstream; the caller still checks ID and question.
 *
 * With the native addon (host/native-udp.ts) a socket's queries of one turn leave in one
 * sendmmsg and its answers arrive in recvmmsg batches; without it, node:dgram.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { Buffer } from 'node:buffer';
import { randomId } from './transport.js';
import { nativeUdp, type NativeUdp } from '../host/native-udp.js';
import { SlotMap } from '../slot-map.js';
import { copyFromArrayBuffer, put16, u16 } from '../dns/bytes.js';
import { closeTurn, openTurn, systemClock } from '../clock.js';

import type { UdpPoolLimits } from '../config/types.js';

export type { UdpPoolLimits };

export const DEFAULT_UDP_POOL: UdpPoolLimits = { sockets: 16, queriesPerSocket: 100, socketLifetimeMs: 10_000 };

export interface PoolWaiter {
  /** every datagram with this query's ID */
  message(msg: Buffer): void;
  /** the socket failed (or could not be opened) */
  error(err: Error): void;
}

/** Where a query waits: `done` with its ID once it is over. */
export interface PoolTicket {
  done(id: number): void;
}

interface PooledSocket extends PoolTicket {
  readonly waiters: SlotMap<number, PoolWaiter>;
  readonly born: number;
  readonly source: string | undefined;
  used: number;
  retired: boolean;
  send(b: Buffer): void;
  close(): void;
}

/** Every waiter fails with `err`; the socket goes. */
function failAll(s: PooledSocket, err: Error, onDead: (s: PooledSocket) => void): void {
  s.retired = true;
  const ws = s.waiters.valueList();
  s.waiters.clear();
  for (const w of ws) w.error(err);
  onDead(s);
  s.close();
}

class DgramSocket implements PooledSocket {
  readonly sock: dgram.Socket;
  readonly waiters = new SlotMap<number, PoolWaiter>();
  readonly born = systemClock.now();
  used = 0;
  retired = false;
  private ready = false;
  private queued: Buffer[] = [];

  constructor(host: string, port: number, readonly source: string | undefined, onDead: (s: PooledSocket) => void) {
    this.sock = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    this.sock.on('message', (msg) => {
      if (msg.length < 2) return;
      openTurn();
      try {
        this.waiters.get(u16(msg, 0))?.message(msg);
      } finally {
        closeTurn();
      }
    });
    // An ICMP error or a bind failure: every query on it fails now, and the socket goes.
    this.sock.on('error', (err) => failAll(this, err, onDead));
    this.sock.bind({ port: 0, address: source }, () => {
      this.sock.connect(port, host, () => {
        this.ready = true;
        for (const b of this.queued) this.sock.send(b);
        this.queued = [];
      });
    });
  }

  send(b: Buffer): void {
    if (this.ready) this.sock.send(b);
    else this.queued.push(b);
  }

  done(id: number): void {
    this.waiters.delete(id);
    if (this.retired && this.waiters.size === 0) this.close();
  }

  private closed = false;
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try { this.sock.close(); } catch { /* already closed */ }
  }
}

/** Bytes per datagram slot: our queries advertise 1232 (bigger answers come truncated, then by TCP). */
const UPSTREAM_SLOT = 4096;

/** Sockets with queries queued this turn: flushed together once the turn's callbacks are done. */
const dirty = new Set<NativeSocket>();
let flushScheduled = false;
function flushDirty(): void {
  flushScheduled = false;
  const all = [...dirty];
  dirty.clear();
  for (const s of all) s.flush();
}

/**
 * Retired sockets' rx/meta pairs, for the next socket to take: a fresh pair is two new external
 * ArrayBuffers, and V8 counts each one's 256 KB toward the external-memory budget that starts a
 * full GC. At one socket per hundred queries, reusing them took the miss path from a full GC
 * every ~100 ms to one every ~1.2 s (bench/RESULTS.md).
 */
const spareBuffers: Array<{ rx: ArrayBuffer; meta: ArrayBuffer }> = [];
const SPARE_BUFFERS = 16;

class NativeSocket implements PooledSocket {
  readonly waiters = new SlotMap<number, PoolWaiter>();
  readonly born = systemClock.now();
  used = 0;
  retired = false;
  private readonly handle: unknown;
  /** the batch's answers, UPSTREAM_SLOT bytes apart */
  private readonly rx: Uint8Array;
  private readonly rxBuffer: ArrayBuffer;
  private readonly meta: Uint8Array;
  private readonly buffers: { rx: ArrayBuffer; meta: ArrayBuffer };
  /** it took a retired socket's buffers */
  readonly reused: boolean;
  private closed = false;

  constructor(private readonly addon: NativeUdp, host: string, port: number, readonly source: string | undefined, private readonly onDead: (s: PooledSocket) => void) {
    const taken = spareBuffers.pop();
    this.reused = taken !== undefined;
    const spare = taken ?? { rx: new ArrayBuffer(addon.BATCH * UPSTREAM_SLOT), meta: new ArrayBuffer(addon.BATCH * addon.META) };
    const s = addon.open(source ?? (isIPv6(host) ? '::' : '0.0.0.0'), 0, false, 0, (n) => this.batch(n), UPSTREAM_SLOT, spare.rx, spare.meta);
    this.handle = s.handle;
    this.buffers = spare; // ours, whatever the addon did with them: never a buffer it owns
    this.rxBuffer = s.rx;
    this.rx = new Uint8Array(s.rx);
    this.meta = new Uint8Array(s.meta);
    try {
      addon.connect(this.handle, host, port);
    } catch (e) {
      addon.close(this.handle);
      this.closed = true;
      throw e;
    }
  }

  private batch(n: number): void {
    if (n < 0) return failAll(this, errnoError(-n), this.onDead);
    openTurn();
    try {
      this.answers(n);
    } finally {
      closeTurn();
    }
  }

  private answers(n: number): void {
    const { META } = this.addon;
    const SLOT = UPSTREAM_SLOT;
    for (let i = 0; i < n; i++) {
      const len = this.meta[i * META] | (this.meta[i * META + 1] << 8);
      if (len < 2) continue;
      const at = i * SLOT;
      const w = this.waiters.get((this.rx[at] << 8) | this.rx[at + 1]);
      if (w === undefined) continue;
      // Its own copy: the slots are reused by the next batch, and the answer is kept (cached, coalesced).
      const msg = Buffer.allocUnsafe(len);
      copyFromArrayBuffer(this.rxBuffer, at, len, msg, 0);
      w.message(msg);
    }
  }

  send(b: Buffer): void {
    if (this.closed) return;
    this.addon.send(this.handle, b);
    dirty.add(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushDirty);
    }
  }

  flush(): void {
    if (this.closed) return;
    const errno = this.addon.flush(this.handle);
    if (errno !== 0) failAll(this, errnoError(errno), this.onDead);
  }

  done(id: number): void {
    this.waiters.delete(id);
    if (this.retired && this.waiters.size === 0) this.close();
  }

  close(): void {
    if (this.closed) return;
    this.flush(); // queries queued this turn still go
    if (this.closed) return; // the flush failed and closed it
    this.closed = true;
    dirty.delete(this);
    this.addon.close(this.handle);
    // Closed: the addon reads into these no more, so the next socket may have them.
    if (spareBuffers.length < SPARE_BUFFERS) spareBuffers.push(this.buffers);
  }
}

/** What node:dgram would have said: ECONNREFUSED from a closed port upstream, above all. */
function errnoError(errno: number): Error {
  const code = errno === 111 ? 'ECONNREFUSED' : errno === 113 ? 'EHOSTUNREACH' : errno === 101 ? 'ENETUNREACH' : `errno ${errno}`;
  return Object.assign(new Error(`upstream socket: ${code}`), { code });
}

export class UdpSocketPool {
  private readonly slots: Array<PooledSocket | null>;
  private next = 0;
  /** sockets opened over the pool's life (for tests and stats) */
  opened = 0;
  /** native sockets that took a retired socket's buffers instead of new ones (for tests) */
  reusedBuffers = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly source: () => string | undefined,
    private readonly limits: UdpPoolLimits = DEFAULT_UDP_POOL,
    private readonly addon: NativeUdp | null = nativeUdp().addon,
  ) {
    this.slots = new Array<PooledSocket | null>(Math.max(1, limits.sockets)).fill(null);
  }

  /** Which I/O path this pool's sockets take. */
  get io(): 'recvmmsg' | 'dgram' {
    return this.addon !== null ? 'recvmmsg' : 'dgram';
  }

  /**
   * Send `out` with an ID of ours written into it; `w` hears every datagram carrying that ID
   * until `done(id)` is called on the returned ticket (the socket itself: no closure per query).
   */
  send(out: Buffer, w: PoolWaiter): PoolTicket {
    const s = this.pick();
    let id = randomId();
    while (s.waiters.has(id)) id = randomId();
    put16(out, 0, id);
    s.waiters.set(id, w);
    s.used++;
    s.send(out);
    return s;
  }

  private pick(): PooledSocket {
    const i = this.next;
    this.next = (i + 1) % this.slots.length;
    let s = this.slots[i];
    const source = this.source();
    if (s !== null && (s.retired || s.used >= this.limits.queriesPerSocket || systemClock.now() - s.born >= this.limits.socketLifetimeMs || s.source !== source)) {
      this.retire(s);
      s = null;
    }
    if (s === null) {
      const onDead = (dead: PooledSocket) => { if (this.slots[i] === dead) this.slots[i] = null; };
      s = this.open(source, onDead);
      this.slots[i] = s;
      this.opened++;
    }
    return s;
  }

  private open(source: string | undefined, onDead: (s: PooledSocket) => void): PooledSocket {
    if (this.addon !== null) {
      try {
        const s = new NativeSocket(this.addon, this.host, this.port, source, onDead);
        if (s.reused) this.reusedBuffers++;
        return s;
      } catch {
        // A source the native socket cannot bind or connect from: node:dgram reports it to the query as it always has.
      }
    }
    return new DgramSocket(this.host, this.port, source, onDead);
  }

  private retire(s: PooledSocket): void {
    s.retired = true;
    const i = this.slots.indexOf(s);
    if (i >= 0) this.slots[i] = null;
    if (s.waiters.size === 0) s.close();
  }

  /** New queries go out on new sockets (another uplink); those under way finish on the old. */
  drain(): void {
    for (const s of this.slots) if (s !== null) this.retire(s);
  }

  close(): void {
    for (const s of this.slots) s?.close();
    this.slots.fill(null);
  }
}
