/**
 * HPACK's Huffman code (RFC 7541 Appendix B). The code is canonical — codes of one length are
 * consecutive in symbol order, shorter ones first — so the bit lengths alone define it; the
 * codes are rebuilt from them at load and checked against the RFC's test vectors in the tests.
 * Decoding walks a table 4 bits at a time (a state machine of about 256 states × 16).
 */

/** Code length in bits of symbols 0–255 and EOS (256), from RFC 7541 Appendix B. */
const LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

export const EOS = 256;

/** codes[sym] (right-aligned) and lengths[sym], rebuilt canonically from LENGTHS. */
export const CODES = new Uint32Array(257);
export const CODE_LENGTHS = Uint8Array.from(LENGTHS);
{
  const order = [...LENGTHS.keys()].sort((a, b) => LENGTHS[a] - LENGTHS[b] || a - b);
  let code = 0;
  let len = LENGTHS[order[0]];
  for (const sym of order) {
    code <<= LENGTHS[sym] - len;
    len = LENGTHS[sym];
    CODES[sym] = code;
    code++;
  }
}

// Decoding state machine: a binary tree of the codes, then a table that consumes 4 bits at a time.
// Each entry: next state, the symbol emitted (or -1), whether the state ends on a complete
// symbol boundary that is a valid end (all 1 bits of EOS's prefix, at most 7), or failure.
const tree: Array<[number, number]> = [[-1, -1]]; // children: -1 none, a leaf is -2 - symbol
{
  for (let sym = 0; sym < 257; sym++) {
    let node = 0;
    for (let b = CODE_LENGTHS[sym] - 1; b >= 0; b--) {
      const bit = (CODES[sym] >>> b) & 1;
      if (b === 0) tree[node][bit] = -2 - sym;
      else {
        if (tree[node][bit] === -1) {
          tree[node][bit] = tree.length;
          tree.push([-1, -1]);
        }
        node = tree[node][bit];
      }
    }
  }
}

const STATES = tree.length;
/** per state × nibble: (next state << 10) | (emit symbol + 1 << 1) | fail — packed in an Int32 */
const NEXT = new Int32Array(STATES * 16);
const EMIT = new Int16Array(STATES * 16);
/** a state reached only by 1-bits from the root, fewer than 8 of them: the padding RFC 7541 §5.2 allows */
const ACCEPT = new Uint8Array(STATES);
{
  let node = 0;
  ACCEPT[0] = 1;
  for (let i = 0; i < 7; i++) {
    node = tree[node][1];
    ACCEPT[node] = 1;
  }
  for (let s = 0; s < STATES; s++) {
    for (let nib = 0; nib < 16; nib++) {
      let node2 = s;
      let emit = -1;
      let fail = false;
      for (let b = 3; b >= 0; b--) {
        const next = tree[node2][(nib >>> b) & 1];
        if (next < 0) {
          const sym = -2 - next;
          if (sym === EOS || emit !== -1) { fail = true; break; } // EOS in a string is an error; a nibble emits at most one symbol (codes are ≥ 5 bits)
          emit = sym;
          node2 = 0;
        } else node2 = next;
      }
      NEXT[s * 16 + nib] = fail ? -1 : node2;
      EMIT[s * 16 + nib] = emit;
    }
  }
}

/** Decode a Huffman-coded string (latin1), or null when it is not a valid encoding. */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string | null {
  let state = 0;
  let out = '';
  for (let i = start; i < end; i++) {
    const byte = src[i];
    for (const nib of [byte >>> 4, byte & 15]) {
      const k = state * 16 + nib;
      const next = NEXT[k];
      if (next < 0) return null;
      if (EMIT[k] >= 0) out += String.fromCharCode(EMIT[k]);
      state = next;
    }
  }
  return ACCEPT[state] ? out : null;
}

/** Encoded length in bytes of a latin1 string. */
export function huffmanLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += CODE_LENGTHS[s.charCodeAt(i) & 0xff];
  return (bits + 7) >> 3;
}

export function huffmanEncode(s: string, out: Uint8Array, at: number): number {
  let acc = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const len = CODE_LENGTHS[sym];
    // at most 30 bits a symbol: keep fewer than 32 pending bits by flushing whole bytes first
    acc = (acc * 2 ** len) + CODES[sym];
    n += len;
    while (n >= 8) {
      n -= 8;
      out[at++] = Math.floor(acc / 2 ** n) & 0xff;
      acc %= 2 ** n;
    }
  }
  if (n > 0) out[at++] = ((acc << (8 - n)) | (0xff >> n)) & 0xff; // pad with the EOS prefix (1s)
  return at;
}
