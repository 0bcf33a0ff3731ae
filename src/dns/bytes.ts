/**
 * Byte access for the query path. On Node 20's V8, optimized code loads a method of a typed
 * array (`buf.readUInt16BE`, `buf.copy`, `buf.set`, `buf.toString`) through the generic
 * property-load builtin instead of inline, about 10 ns a call, and `Buffer#copy` makes a view
 * through the `buffer` getter: 3% of a cache miss in `perf` (bench/RESULTS.md). These read and
 * write by index, and call the few methods they need through references taken once, which
 * optimized code calls directly.
 */
import { Buffer } from 'node:buffer';

const typedArray = Object.getPrototypeOf(Uint8Array.prototype) as object;
const bufferOf = Object.getOwnPropertyDescriptor(typedArray, 'buffer')!.get as (this: Uint8Array) => ArrayBufferLike;
const offsetOf = Object.getOwnPropertyDescriptor(typedArray, 'byteOffset')!.get as (this: Uint8Array) => number;
const setFrom = Uint8Array.prototype.set as (this: Uint8Array, src: Uint8Array, at: number) => void;
type NodeBuffer = Buffer & {
  latin1Slice(start: number, end: number): string;
  latin1Write(s: string, at: number, len: number): number;
};
const latin1Slice = (Buffer.prototype as NodeBuffer).latin1Slice;
const latin1Write = (Buffer.prototype as NodeBuffer).latin1Write;

export const u16 = (b: Uint8Array, at: number): number => (b[at] << 8) | b[at + 1];

export const u32 = (b: Uint8Array, at: number): number => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/** Stores into a Uint8Array keep the low 8 bits, so no masking. */
export function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v;
}

export function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

/**
 * `src[from, end)` to `dst` at `to`. The range must lie inside both (no clamping, unlike
 * `Buffer#copy`) and the two must not overlap. Up to 16 bytes a loop is faster than any call;
 * a whole `src` needs no view of it (in process: 13 ns against 39 for a 64-byte range).
 */
export function copyBytes(src: Uint8Array, from: number, end: number, dst: Uint8Array, to: number): void {
  const n = end - from;
  if (n <= 16) {
    for (let i = 0; i < n; i++) dst[to + i] = src[from + i];
    return;
  }
  if (from === 0 && n === src.length) setFrom.call(dst, src, to);
  else setFrom.call(dst, new Uint8Array(bufferOf.call(src), offsetOf.call(src) + from, n), to);
}

/** `n` bytes at `at` of an ArrayBuffer (a batch's slots) to `dst` at `to`: no getter to find the buffer (30 ns against 39). */
export function copyFromArrayBuffer(ab: ArrayBuffer, at: number, n: number, dst: Uint8Array, to: number): void {
  setFrom.call(dst, new Uint8Array(ab, at, n), to);
}

/** `b[start, end)` as a latin1 string (the cache's keys). */
export function latin1(b: Buffer, start: number, end: number): string {
  return latin1Slice.call(b, start, end);
}

/** Write `s` (latin1, one byte per char) into `b` at `at`. */
export function writeLatin1(b: Buffer, s: string, at: number): void {
  latin1Write.call(b, s, at, s.length);
}
