/** Seeded packet mutations for fuzzing: truncations, bit flips, pointer loops, huge counts, noise. */
import { makeQuery } from './packets.js';

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ['A', 'AAAA', 'TXT', 'MX', 'SRV', 'PTR', 'SOA', 'NS', 'CNAME', 'ANY'];
const NAMES = ['gw.home.arpa', 'nope.home.arpa', '1.0.0.10.in-addr.arpa', 'www.fuzz.example', 'localhost', 'x.local', 'a.b.c.d.e.f.fuzz.example'];

export function mutatedPacket(rand: () => number): Buffer {
  const int = (n: number) => Math.floor(rand() * n);
  const base = Buffer.from(makeQuery(NAMES[int(NAMES.length)], TYPES[int(TYPES.length)], {
    id: int(65536), edns: rand() < 0.5 ? 512 + int(4000) : undefined, dnssecOk: rand() < 0.3, padding: rand() < 0.2,
  }));
  switch (int(8)) {
    case 0: return base.subarray(0, int(base.length)); // truncation
    case 1: { // bit flips
      for (let i = 0, n = 1 + int(6); i < n; i++) base[int(base.length)] ^= 1 << int(8);
      return base;
    }
    case 2: { // a compression pointer loop in the question, or pointing anywhere
      const at = 12 + int(Math.max(1, base.length - 14));
      base[at] = 0xc0 | int(64);
      base[at + 1] = rand() < 0.5 ? at & 0xff : int(256);
      return base;
    }
    case 3: { // huge or odd section counts
      base.writeUInt16BE(int(65536), 4 + 2 * int(4));
      return base;
    }
    case 4: { // random bytes after a plausible header
      const noise = Buffer.alloc(int(600));
      for (let i = 0; i < noise.length; i++) noise[i] = int(256);
      return Buffer.concat([base.subarray(0, 12), noise]);
    }
    case 5: { // pure noise of any length
      const b = Buffer.alloc(int(1500));
      for (let i = 0; i < b.length; i++) b[i] = int(256);
      return b;
    }
    case 6: { // odd opcodes, flags and classes
      base[2] = int(256);
      base[3] = int(256);
      return base;
    }
    default: { // labels with bad lengths, extra garbage appended
      base[12] = int(256);
      return Buffer.concat([base, Buffer.alloc(int(40), int(256))]);
    }
  }
}
