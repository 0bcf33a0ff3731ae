import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { copyBytes, latin1, put16, put32, u16, u32, writeLatin1 } from './bytes.js';

describe('byte access', () => {
  it('reads and writes big-endian integers as Buffer does', () => {
    const b = Buffer.alloc(8);
    for (const v of [0, 1, 0x7f, 0x80, 0xff, 0x1234, 0xfffe, 0xffff]) {
      put16(b, 1, v);
      expect(b.readUInt16BE(1)).toBe(v);
      expect(u16(b, 1)).toBe(v);
    }
    for (const v of [0, 1, 0x7fffffff, 0x80000000, 0xdeadbeef, 0xffffffff]) {
      put32(b, 3, v);
      expect(b.readUInt32BE(3)).toBe(v);
      expect(u32(b, 3)).toBe(v); // unsigned: the top bit set stays a positive number
    }
  });

  it('copies short and long ranges between views with offsets of their own', () => {
    const backing = new ArrayBuffer(4096);
    const src = new Uint8Array(backing, 100, 3000);
    for (let i = 0; i < src.length; i++) src[i] = (i * 7) & 0xff;
    const pooled = Buffer.allocUnsafe(600); // a slice of Node's pool: a byteOffset of its own
    for (const [from, n] of [[0, 0], [5, 1], [9, 16], [33, 17], [1000, 512]]) {
      pooled.fill(0xaa);
      copyBytes(src, from, from + n, pooled, 40);
      expect(pooled.subarray(40, 40 + n)).toEqual(Buffer.from(src.subarray(from, from + n)));
      expect(pooled[39]).toBe(0xaa);
      if (40 + n < pooled.length) expect(pooled[40 + n]).toBe(0xaa);
    }
  });

  it('round-trips latin1 keys', () => {
    const key = '\x03www\x07example\x00\x00\x01\x00\x01\x00';
    const b = Buffer.alloc(40, 0xee);
    writeLatin1(b, key, 3);
    expect(b[2]).toBe(0xee);
    expect(b[3 + key.length]).toBe(0xee);
    expect(latin1(b, 3, 3 + key.length)).toBe(key);
  });
});
