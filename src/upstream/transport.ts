/**
 * One interface for every way of asking an upstream: udp, tcp, tls (DoT) and https (DoH).
 * A transport takes a complete query (any ID) and resolves with a response whose ID and question
 * match it, or rejects with an `UpstreamError`.
 */
import { randomFillSync } from 'node:crypto';
import type { Buffer } from 'node:buffer';
import type { UpstreamProtocol } from '../config/types.js';
import { sameQuestion } from '../dns/scan.js';
import { EdgeError } from '../errors.js';

/** Who hears how one `ask` ended: one of the two, once. */
export interface AnswerSink {
  answered(res: Buffer): void;
  failed(err: Error): void;
}

export interface Transport {
  readonly protocol: UpstreamProtocol;
  query(wire: Buffer, timeoutMs: number): Promise<Buffer>;
  /**
   * `query` without a Promise, for the UDP miss path (each promise and its reaction was a cost
   * of every miss): never throws, the outcome goes to `to`, possibly before `ask` returns.
   */
  ask?(wire: Buffer, timeoutMs: number, to: AnswerSink): void;
  /** Close sockets; queries under way reject. */
  close(): void;
  /**
   * The source address changed (another uplink): new queries open new connections, bound to
   * the new source; queries under way finish on the old ones, which then close.
   */
  drain?(): void;
  /** RFC 7873 on plain UDP: whether the server gave us a cookie, and replies ignored for a bad one. */
  cookies?(): CookieStatus;
}

export interface CookieStatus {
  server: boolean;
  rejected: number;
}

export type UpstreamErrorCode = 'UPSTREAM_TIMEOUT' | 'UPSTREAM_NETWORK' | 'UPSTREAM_BAD_RESPONSE' | 'UPSTREAM_CLOSED' | 'UPSTREAM_HTTP';

export class UpstreamError extends EdgeError<UpstreamErrorCode> {}

/**
 * Where upstream sockets bind (the selected uplink's source address); undefined: let the kernel
 * choose. Read at every bind, so it may be a getter that follows the uplink selection.
 */
export interface SourceAddress {
  readonly localAddress?: string;
}

const pool = new Uint16Array(2048);
let poolPos = pool.length;
/** An unpredictable 16-bit query ID (node:crypto), drawn from a refilled pool. */
export function randomId(): number {
  if (poolPos >= pool.length) {
    randomFillSync(pool);
    poolPos = 0;
  }
  return pool[poolPos++];
}

/** Does a response answer this query: QR set, same ID, same question (case-insensitive)? */
export function responseMatches(query: Buffer, response: Buffer): boolean {
  if (response.length < 12 || (response[2] & 0x80) === 0) return false;
  if (response[0] !== query[0] || response[1] !== query[1]) return false;
  return sameQuestion(query, response);
}
