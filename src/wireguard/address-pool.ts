/**
 * The next free tunnel address: the lowest host number n that is free in every tunnel prefix, so
 * a dual-stack peer gets matching addresses (10.44.0.3 and fd44::3).
 */
import { ipaddr } from '../cjs.js';
import { networkOf } from '../prefix.js';
import { WgError } from './wg-model.js';

function toBig(a: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  return a.toByteArray().reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

function fromBig(n: bigint, bytes: number): string {
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) {
    out.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return ipaddr.fromByteArray(out).toString();
}

/** Stop looking after this many host numbers (a /64 would otherwise never end). */
const SEARCH_LIMIT = 65_536n;

/**
 * `serverAddresses`: the server's own prefixes (10.44.0.1/24); `used`: every peer's addresses.
 * Returns one host prefix per tunnel prefix (/32 or /128).
 */
export function nextFreeAddresses(serverAddresses: string[], used: string[]): string[] {
  const taken = new Set([...serverAddresses, ...used].map((c) => ipaddr.parse(c.split('/')[0]).toNormalizedString()));
  const nets = serverAddresses.map((s) => {
    const [net, len] = ipaddr.parseCIDR(networkOf(s));
    const bits = net.kind() === 'ipv4' ? 32 : 128;
    const size = 1n << BigInt(bits - len);
    // IPv4 prefixes up to /30 lose their broadcast address; /31 and /32 use every address
    const last = bits === 32 && len < 31 ? size - 2n : size - 1n;
    return { base: toBig(net), last, bytes: bits / 8, hostBits: bits };
  });
  const limit = nets.reduce((m, n) => (n.last < m ? n.last : m), SEARCH_LIMIT);
  for (let n = 1n; n <= limit; n++) {
    const cands = nets.map((x) => fromBig(x.base + n, x.bytes));
    if (cands.every((c) => !taken.has(ipaddr.parse(c).toNormalizedString()))) {
      return cands.map((c, i) => `${c}/${nets[i].hostBits}`);
    }
  }
  throw new WgError('WG_NO_ADDRESS', `no free tunnel address left in ${serverAddresses.map(networkOf).join(', ')}`);
}
