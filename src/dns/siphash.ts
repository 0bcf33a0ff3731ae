/**
 * SipHash-2-4 (Aumasson & Bernstein), the PRF of RFC 9018 server cookies. 64-bit lanes held as
 * pairs of 32-bit halves, so no BigInt is allocated per hash.
 */
const v = new Uint32Array(8); // v0h v0l v1h v1l v2h v2l v3h v3l

function add(a: number, b: number): void {
  const lo = (v[a + 1] + v[b + 1]) >>> 0;
  v[a] = (v[a] + v[b] + (lo < v[a + 1] ? 1 : 0)) >>> 0;
  v[a + 1] = lo;
}

function rotl(a: number, n: number): void {
  let h = v[a];
  let l = v[a + 1];
  if (n >= 32) {
    const t = h; h = l; l = t;
    n -= 32;
  }
  if (n > 0) {
    const nh = ((h << n) | (l >>> (32 - n))) >>> 0;
    l = ((l << n) | (h >>> (32 - n))) >>> 0;
    h = nh;
  }
  v[a] = h;
  v[a + 1] = l;
}

function xor(a: number, b: number): void {
  v[a] ^= v[b];
  v[a + 1] ^= v[b + 1];
}

function round(): void {
  add(0, 2); rotl(2, 13); xor(2, 0); rotl(0, 32);
  add(4, 6); rotl(6, 16); xor(6, 4);
  add(0, 6); rotl(6, 21); xor(6, 0);
  add(4, 2); rotl(2, 17); xor(2, 4); rotl(4, 32);
}

function le32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/** SipHash-2-4 of `msg` under a 16-byte key, written as 8 bytes (little-endian, as the reference) into `out` at `at`. */
export function siphash24(key: Uint8Array, msg: Uint8Array, out: Uint8Array, at = 0): void {
  const k0l = le32(key, 0), k0h = le32(key, 4), k1l = le32(key, 8), k1h = le32(key, 12);
  v[0] = (k0h ^ 0x736f6d65) >>> 0; v[1] = (k0l ^ 0x70736575) >>> 0;
  v[2] = (k1h ^ 0x646f7261) >>> 0; v[3] = (k1l ^ 0x6e646f6d) >>> 0;
  v[4] = (k0h ^ 0x6c796765) >>> 0; v[5] = (k0l ^ 0x6e657261) >>> 0;
  v[6] = (k1h ^ 0x74656462) >>> 0; v[7] = (k1l ^ 0x79746573) >>> 0;
  const len = msg.length;
  const whole = len - (len % 8);
  let mh = 0, ml = 0;
  for (let o = 0; o <= whole; o += 8) {
    if (o < whole) {
      ml = le32(msg, o);
      mh = le32(msg, o + 4);
    } else {
      // the last block: the remaining bytes and the length in the top byte
      const tail = new Uint8Array(8);
      tail.set(msg.subarray(whole));
      tail[7] = len & 0xff;
      ml = le32(tail, 0);
      mh = le32(tail, 4);
    }
    v[6] ^= mh; v[7] ^= ml;
    round(); round();
    v[0] ^= mh; v[1] ^= ml;
  }
  v[5] ^= 0xff;
  round(); round(); round(); round();
  const h = (v[0] ^ v[2] ^ v[4] ^ v[6]) >>> 0;
  const l = (v[1] ^ v[3] ^ v[5] ^ v[7]) >>> 0;
  for (let i = 0; i < 4; i++) {
    out[at + i] = (l >>> (8 * i)) & 0xff;
    out[at + 4 + i] = (h >>> (8 * i)) & 0xff;
  }
}
