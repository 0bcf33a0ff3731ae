/**
 * Domain names on the wire. Internally a name is handled either as dotted text ("gw.home.arpa",
 * lower case, no trailing dot; "" is the root) or, on the hot path, as its uncompressed wire form
 * held in a latin1 string ("\x02gw\x04home\x04arpa\x00") so suffix checks need no decoding.
 */
import { Buffer } from 'node:buffer';

/** Offset just past the name at `off`, following no pointers; -1 if it runs off the packet. */
export function skipName(buf: Uint8Array, off: number): number {
  const end = buf.length;
  for (let guard = 0; guard < 128; guard++) {
    if (off >= end) return -1;
    const len = buf[off];
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= end ? off + 2 : -1;
    if ((len & 0xc0) !== 0) return -1; // 0x40/0x80 label types are obsolete
    off += 1 + len;
  }
  return -1;
}

/** Dotted text → uncompressed wire bytes. Throws on labels over 63 bytes or names over 255. */
export function encodeName(name: string): Buffer {
  const clean = trimDot(name);
  if (clean === '') return Buffer.from([0]);
  const labels = clean.split('.');
  const parts: number[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length === 0 || bytes.length > 63) throw new Error(`bad label in name "${name}"`);
    parts.push(bytes.length, ...bytes);
  }
  parts.push(0);
  if (parts.length > 255) throw new Error(`name too long: "${name}"`);
  return Buffer.from(parts);
}

/** The lower-case wire form of a dotted name as a latin1 string (see the module comment). */
export function wireKey(name: string): string {
  return encodeName(normalizeName(name)).toString('latin1');
}

/** Wire-form (latin1 string) name → dotted text. */
export function wireKeyToName(key: string): string {
  const labels: string[] = [];
  let pos = 0;
  while (pos < key.length) {
    const len = key.charCodeAt(pos);
    if (len === 0) break;
    labels.push(key.slice(pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return labels.join('.');
}

/**
 * True when wire name `name` equals `suffix` or lies beneath it, on a label boundary.
 * Both are lower-case wire strings; the loop walks label starts, so a label that merely
 * contains the suffix bytes does not match.
 */
export function isUnder(name: string, suffix: string): boolean {
  const start = name.length - suffix.length;
  if (start < 0 || !name.endsWith(suffix)) return false;
  let pos = 0;
  while (pos < start) pos += 1 + name.charCodeAt(pos);
  return pos === start;
}

export function trimDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** ASCII lower case and no trailing dot: DNS compares names case-insensitively in ASCII only. */
export function normalizeName(name: string): string {
  return trimDot(name).replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Qualify `name` relative to `origin` ("@" is the origin; a trailing dot means absolute). */
export function qualify(name: string, origin: string): string {
  if (name === '@') return normalizeName(origin);
  if (name.endsWith('.')) return normalizeName(name);
  return normalizeName(origin === '' ? name : `${name}.${origin}`);
}
