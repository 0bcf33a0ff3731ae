/**
 * HPACK (RFC 7541) for the DoH server: a decoder with the static table, a dynamic table bounded
 * by the size we advertise (SETTINGS_HEADER_TABLE_SIZE, 4096), and Huffman strings; and the
 * few bytes our answers need, encoded without touching the peer's dynamic table (static names,
 * literal values, never indexed), so no state has to be kept for the encoder side.
 */
import { huffmanDecode } from './huffman.js';

export const HEADER_TABLE_SIZE = 4096;

const STATIC: Array<[string, string]> = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''],
  ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''],
  ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''],
  ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''],
  ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''], ['retry-after', ''],
  ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''], ['transfer-encoding', ''],
  ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
];

export class HpackError extends Error {}

/** What a header block decoded to; `size` is RFC 7541's list size (name + value + 32 each). */
export interface HeaderList {
  headers: Array<[string, string]>;
  size: number;
}

export class HpackDecoder {
  /** newest first */
  private table: Array<[string, string]> = [];
  private tableSize = 0;
  private maxSize = HEADER_TABLE_SIZE;

  get dynamicSize(): number {
    return this.tableSize;
  }

  private entry(index: number): [string, string] {
    if (index === 0) throw new HpackError('index 0');
    if (index <= STATIC.length) return STATIC[index - 1];
    const e = this.table[index - STATIC.length - 1];
    if (e === undefined) throw new HpackError(`index ${index} beyond the tables`);
    return e;
  }

  private add(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.table.unshift([name, value]);
    this.tableSize += size;
    this.evict(this.maxSize);
  }

  private evict(limit: number): void {
    while (this.tableSize > limit && this.table.length > 0) {
      const [n, v] = this.table.pop()!;
      this.tableSize -= n.length + v.length + 32;
    }
  }

  /** A whole header block (HEADERS plus its CONTINUATIONs). Throws HpackError: a COMPRESSION_ERROR. */
  decode(b: Uint8Array): HeaderList {
    const headers: Array<[string, string]> = [];
    let size = 0;
    let i = 0;
    let first = true;
    const int = (prefix: number): number => {
      const mask = (1 << prefix) - 1;
      let v = b[i++] & mask;
      if (v < mask) return v;
      let shift = 0;
      for (;;) {
        if (i >= b.length) throw new HpackError('integer cut');
        const c = b[i++];
        v += (c & 0x7f) * 2 ** shift;
        shift += 7;
        if ((c & 0x80) === 0) return v;
        if (shift > 28) throw new HpackError('integer too large');
      }
    };
    const str = (): string => {
      if (i >= b.length) throw new HpackError('string cut');
      const huff = (b[i] & 0x80) !== 0;
      const len = int(7);
      if (i + len > b.length) throw new HpackError('string beyond the block');
      const s = huff ? huffmanDecode(b, i, i + len) : Buffer.from(b.buffer, b.byteOffset + i, len).toString('latin1');
      if (s === null) throw new HpackError('bad Huffman string');
      i += len;
      return s;
    };
    while (i < b.length) {
      const c = b[i];
      let name: string;
      let value: string;
      if (c & 0x80) {
        [name, value] = this.entry(int(7));
      } else if ((c & 0xe0) === 0x20) {
        // dynamic table size update: only at the start of a block, never above what we advertised
        if (!first) throw new HpackError('table size update after a header');
        const n = int(5);
        if (n > HEADER_TABLE_SIZE) throw new HpackError('table size above SETTINGS_HEADER_TABLE_SIZE');
        this.maxSize = n;
        this.evict(n);
        continue;
      } else {
        const indexing = (c & 0xc0) === 0x40;
        const idx = int(indexing ? 6 : 4);
        name = idx === 0 ? str() : this.entry(idx)[0];
        value = str();
        if (indexing) this.add(name, value);
      }
      first = false;
      size += name.length + value.length + 32;
      headers.push([name, value]);
    }
    return { headers, size };
  }
}

function int(out: number[], first: number, prefix: number, v: number): void {
  const mask = (1 << prefix) - 1;
  if (v < mask) {
    out.push(first | v);
    return;
  }
  out.push(first | mask);
  v -= mask;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

const STATUS_INDEX: Record<number, number> = { 200: 8, 204: 9, 206: 10, 304: 11, 400: 12, 404: 13, 500: 14 };
const NAME_INDEX = new Map(STATIC.map(([n], i) => [n, i + 1] as const).reverse());

/**
 * A response header block: `:status` from the static table when it is there, every other header
 * as a literal never indexed (0001xxxx) with the static table's name when it has one. Names must
 * be lowercase (HTTP/2 requires it).
 */
export function encodeResponse(status: number, headers: Record<string, string | number>, contentLength = -1): Buffer {
  // The block for one status and header set is the same every time: kept, with the length added.
  const key = contentLength >= 0 ? `${status}\n${JSON.stringify(headers)}` : '';
  let prefix = key ? prefixes.get(key) : undefined;
  if (prefix === undefined) {
    prefix = encodeBlock(status, headers);
    if (key) {
      if (prefixes.size >= 256) prefixes.clear();
      prefixes.set(key, prefix);
    }
  }
  if (contentLength < 0) return prefix;
  const len: number[] = [];
  literal(len, 'content-length', String(contentLength));
  const out = Buffer.allocUnsafe(prefix.length + len.length);
  prefix.copy(out, 0);
  for (let i = 0; i < len.length; i++) out[prefix.length + i] = len[i];
  return out;
}

const prefixes = new Map<string, Buffer>();

function encodeBlock(status: number, headers: Record<string, string | number>): Buffer {
  const out: number[] = [];
  const s = STATUS_INDEX[status];
  if (s !== undefined) out.push(0x80 | s);
  else literal(out, ':status', String(status));
  for (const [name, value] of Object.entries(headers)) literal(out, name, String(value));
  return Buffer.from(out);
}

function literal(out: number[], name: string, value: string): void {
  const idx = NAME_INDEX.get(name);
  if (idx !== undefined) int(out, 0x10, 4, idx);
  else {
    out.push(0x10);
    raw(out, name);
  }
  raw(out, value);
}

function raw(out: number[], s: string): void {
  int(out, 0, 7, s.length);
  for (let k = 0; k < s.length; k++) out.push(s.charCodeAt(k) & 0xff);
}
