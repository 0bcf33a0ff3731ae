import { describe, expect, it } from 'vitest';
import { CODES, CODE_LENGTHS, EOS, huffmanDecode, huffmanEncode, huffmanLength } from './huffman.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

/** RFC 7541 Appendix C.4 and C.6 (Huffman-coded strings). */
const VECTORS: Array<[string, string]> = [
  ['f1e3 c2e5 f23a 6ba0 ab90 f4ff', 'www.example.com'],
  ['a8eb 1064 9cbf', 'no-cache'],
  ['25a8 49e9 5ba9 7d7f', 'custom-key'],
  ['25a8 49e9 5bb8 e8b4 bf', 'custom-value'],
  ['6402', '302'],
  ['aec3 771a 4b', 'private'],
  ['d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff', 'Mon, 21 Oct 2013 20:13:21 GMT'],
  ['9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3', 'https://www.example.com'],
  ['9bd9 ab', 'gzip'],
  ['94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
];

describe('HPACK Huffman (RFC 7541 Appendix B)', () => {
  it('is a complete prefix code whose canonical codes are the RFC\'s', () => {
    let kraft = 0;
    for (let i = 0; i < 257; i++) kraft += 2 ** -CODE_LENGTHS[i];
    expect(kraft).toBe(1);
    // a few codes as the RFC's table prints them
    expect([CODES[0], CODES[1], CODES[10], CODES[32], CODES[48], CODES[122], CODES[199], CODES[255], CODES[EOS]].map((c) => c.toString(16)))
      .toEqual(['1ff8', '7fffd8', '3ffffffc', '14', '0', '7b', '1ffffec', '3ffffee', '3fffffff']);
  });

  it('decodes and encodes the RFC\'s examples byte for byte', () => {
    for (const [h, text] of VECTORS) {
      const b = hex(h);
      expect(huffmanDecode(b, 0, b.length)).toBe(text);
      const out = new Uint8Array(200);
      expect(Buffer.from(out.subarray(0, huffmanEncode(text, out, 0))).equals(b)).toBe(true);
      expect(huffmanLength(text)).toBe(b.length);
    }
  });

  it('round-trips every byte value', () => {
    let all = '';
    for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    const out = new Uint8Array(4096);
    const n = huffmanEncode(all + all.split('').reverse().join(''), out, 0);
    expect(huffmanDecode(out, 0, n)).toBe(all + all.split('').reverse().join(''));
  });

  it('refuses EOS inside a string, padding of 8 bits or more, and padding that is not 1s (§5.2)', () => {
    expect(huffmanDecode(hex('ffffffff'), 0, 4)).toBeNull(); // the 30-bit EOS, then more 1s
    expect(huffmanDecode(hex('1f ff'), 0, 2)).toBeNull(); // 'a' (00011) then 11 bits of padding
    expect(huffmanDecode(hex('18'), 0, 1)).toBeNull(); // 'a' then padding 000
    expect(huffmanDecode(hex('1f'), 0, 1)).toBe('a'); // 'a' then padding 111
  });
});
