/**
 * Addresses from the native listener's records as text, the way node:dgram writes them
 * (inet_ntop: dotted quads; RFC 5952 for IPv6), with IPv4 cached: a LAN has few clients and
 * each query would otherwise build the same string again.
 */
const v4 = new Map<number, string>();
const V4_CACHE = 4096;

export function ipv4Text(b: Uint8Array, at: number): string {
  const key = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  let s = v4.get(key);
  if (s === undefined) {
    if (v4.size >= V4_CACHE) v4.clear();
    s = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
    v4.set(key, s);
  }
  return s;
}

/** RFC 5952: lowercase, no leading zeros, the longest run (2+) of zero groups as "::", the first if tied. */
export function ipv6Text(b: Uint8Array, at: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[at + 2 * i] << 8) | b[at + 2 * i + 1]);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (best === -1) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
