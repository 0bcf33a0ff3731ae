/** IP prefixes as config gives them (10.44.0.1/24): their network, and how two of them relate. */
import { ipaddr } from './cjs.js';

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** 10.44.0.1/24 → 10.44.0.0/24, as `ip` and nft show it. */
export function networkOf(cidr: string): string {
  const [addr, len] = ipaddr.parseCIDR(cidr);
  const net = addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  return `${net.toString()}/${len}`;
}

function parseNet(cidr: string): Cidr {
  return ipaddr.parseCIDR(networkOf(cidr));
}

/** Do the two prefixes share an address? */
export function overlaps(a: string, b: string): boolean {
  const [na, la] = parseNet(a);
  const [nb, lb] = parseNet(b);
  if (na.kind() !== nb.kind()) return false;
  return la <= lb ? (nb as ipaddr.IPv4).match(na as ipaddr.IPv4, la) : (na as ipaddr.IPv4).match(nb as ipaddr.IPv4, lb);
}

/** Is the prefix (or address/len) `inner` within `outer`? */
export function within(inner: string, outer: string): boolean {
  const [a, len] = ipaddr.parseCIDR(inner);
  const [n, plen] = parseNet(outer);
  return a.kind() === n.kind() && len >= plen && (a as ipaddr.IPv4).match(n as ipaddr.IPv4, plen);
}

/** fe80::/10: binding one needs a scope id, and no LAN client is told to use one. */
export function isLinkLocalV6(address: string): boolean {
  return /^fe[89ab]/i.test(address);
}
