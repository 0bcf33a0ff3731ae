/**
 * The optional native UDP addon (native/udp-batch.c, built by `npm ci` when a C compiler is
 * there): recvmmsg/sendmmsg batches and IP_PKTINFO, for the listeners and the upstream socket
 * pool. Loaded once; `EDGEDNS_UDP_IO=dgram` forces node:dgram for both (CI runs the UDP tests
 * that way a second time).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeSocket {
  handle: unknown;
  /** BATCH slots of SLOT bytes: the datagrams of the batch being handled */
  rx: ArrayBuffer;
  /** BATCH records of META bytes (length, family, flags, source port and address, destination address, ifindex) */
  meta: ArrayBuffer;
  port: number;
}

export interface NativeUdp {
  /**
   * `onBatch(n)`: n datagrams in the slots; on a connected socket, n < 0 is -errno (an ICMP error).
   * `rx` and `meta` (BATCH × slotSize and BATCH × META bytes) are used as the socket's buffers
   * instead of new ones; the addon writes to them until `close`.
   */
  open(address: string, port: number, reusePort: boolean, rcvbuf: number, onBatch: (n: number) => void, slotSize?: number, rx?: ArrayBuffer, meta?: ArrayBuffer): NativeSocket;
  /** the one peer this socket talks to from now on (the kernel drops datagrams from others) */
  connect(handle: unknown, address: string, port: number): void;
  /** a datagram to the connected peer, queued with the others of this turn until flush */
  send(handle: unknown, datagram: Uint8Array): void;
  /** queue an answer to datagram `slot` of the batch being handled; sent by sendmmsg when the batch returns */
  reply(handle: unknown, slot: number, reply: Uint8Array): void;
  /** an answer that waited on I/O, to the client in a META record kept from its batch; queued with the others of this turn until flush */
  queueTo(handle: unknown, meta: Uint8Array, reply: Uint8Array): void;
  /** 0, or the errno a send failed with */
  flush(handle: unknown): number;
  close(handle: unknown): void;
  /** [batches, datagrams, sendmmsg calls, sent, send errors, truncated] */
  stats(handle: unknown): number[];
  /** malloc_trim(0) (glibc): give back what exited threads freed; whether anything went back */
  trim(): boolean;
  BATCH: number;
  SLOT: number;
  META: number;
}

export type UdpIo = 'recvmmsg' | 'dgram';

const ADDON = fileURLToPath(new URL('../../native/build/udp_batch.node', import.meta.url));

let loaded: { addon: NativeUdp | null; why: string } | null = null;

/** The addon, or null and why not (said once at start by the listeners' component). */
export function nativeUdp(): { addon: NativeUdp | null; why: string } {
  if (loaded !== null) return loaded;
  if (process.env.EDGEDNS_UDP_IO === 'dgram') return (loaded = { addon: null, why: 'EDGEDNS_UDP_IO=dgram' });
  try {
    return (loaded = { addon: createRequire(import.meta.url)(ADDON) as NativeUdp, why: 'native addon' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return (loaded = { addon: null, why: code === 'MODULE_NOT_FOUND' ? 'native addon not built (no C compiler at npm ci?)' : `native addon did not load: ${(e as Error).message}` });
  }
}

/**
 * Give the memory a finished worker thread freed back to the system (glibc keeps it in that
 * thread's arena otherwise). Uses the addon whichever UDP path runs; without it, nothing.
 */
export function releaseFreedMemory(): boolean {
  try {
    return (nativeUdp().addon ?? (createRequire(import.meta.url)(ADDON) as NativeUdp)).trim();
  } catch {
    return false;
  }
}
