/** Reverse names (in-addr.arpa / ip6.arpa) to and from addresses and prefixes. */
import { ipaddr } from '../cjs.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** "10.0.0.7" → "7.0.0.10.in-addr.arpa"; "fd00::1" → nibbles ".ip6.arpa". */
export function reverseName(address: string): string {
  if (IPV4.test(address)) {
    // The common case (every DHCPv4 lease): no parse, no objects.
    const [a, b, c, d] = address.split('.');
    return `${d}.${c}.${b}.${a}.in-addr.arpa`;
  }
  const a = ipaddr.parse(address);
  if (a.kind() === 'ipv4') return `${(a as ipaddr.IPv4).octets.slice().reverse().join('.')}.in-addr.arpa`;
  const hex = (a as ipaddr.IPv6).toByteArray().map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.split('').reverse().join('.')}.ip6.arpa`;
}

/** The apex of the reverse zone that holds a prefix: rounded down to an octet / nibble boundary. */
export function reverseApex(cidr: string): string {
  const [addr, len] = ipaddr.parseCIDR(cidr);
  if (addr.kind() === 'ipv4') {
    const octets = (addr as ipaddr.IPv4).octets.slice(0, Math.floor(len / 8));
    return [...octets.reverse(), 'in-addr', 'arpa'].join('.');
  }
  const hex = (addr as ipaddr.IPv6).toByteArray().map((b) => b.toString(16).padStart(2, '0')).join('');
  const nibbles = hex.slice(0, Math.floor(len / 4)).split('');
  return [...nibbles.reverse(), 'ip6', 'arpa'].join('.');
}

export interface ReversePoint {
  kind: 'ipv4' | 'ipv6';
  /** The address with unknown bits zero. */
  address: ipaddr.IPv4 | ipaddr.IPv6;
  /** How many leading bits the name fixes. */
  bits: number;
}

/** Parse a (possibly partial) reverse name; null when it is not one. */
export function parseReverseName(name: string): ReversePoint | null {
  const labels = name.toLowerCase().split('.');
  if (labels.length >= 2 && labels.at(-1) === 'arpa' && labels.at(-2) === 'in-addr') {
    const parts = labels.slice(0, -2).reverse();
    if (parts.length > 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) < 256)) return null;
    const octets = [0, 0, 0, 0];
    parts.forEach((p, i) => { octets[i] = Number(p); });
    return { kind: 'ipv4', address: new ipaddr.IPv4(octets), bits: parts.length * 8 };
  }
  if (labels.length >= 2 && labels.at(-1) === 'arpa' && labels.at(-2) === 'ip6') {
    const parts = labels.slice(0, -2).reverse();
    if (parts.length > 32 || !parts.every((p) => /^[0-9a-f]$/.test(p))) return null;
    const hex = parts.join('').padEnd(32, '0');
    const bytes: number[] = [];
    for (let i = 0; i < 32; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
    return { kind: 'ipv6', address: ipaddr.fromByteArray(bytes) as ipaddr.IPv6, bits: parts.length * 4 };
  }
  return null;
}

/** Does the reverse name lie inside (or on the way down to) the prefix? */
export function reverseNameInPrefix(point: ReversePoint, cidr: string): boolean {
  const [net, len] = ipaddr.parseCIDR(cidr);
  if (net.kind() !== point.kind) return false;
  if (point.bits >= len) return (point.address as ipaddr.IPv4).match(net as ipaddr.IPv4, len);
  // An ancestor of the prefix: an empty non-terminal between the apex and the prefix.
  return (net as ipaddr.IPv4).match(point.address as ipaddr.IPv4, point.bits);
}
