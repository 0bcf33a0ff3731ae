/**
 * Source ACL: first matching prefix wins. With no rules, loopback, RFC 1918, RFC 4193 and
 * link-local sources are allowed and everything else is refused. Decisions are memoized per
 * source address string, so the hot path pays one Map lookup.
 */
import { ipaddr } from '../cjs.js';
import type { AclAction, AclRule } from '../config/types.js';

export const DEFAULT_ACL: AclRule[] = [
  { from: '127.0.0.0/8', action: 'allow' },
  { from: '::1/128', action: 'allow' },
  { from: '10.0.0.0/8', action: 'allow' },
  { from: '172.16.0.0/12', action: 'allow' },
  { from: '192.168.0.0/16', action: 'allow' },
  { from: '169.254.0.0/16', action: 'allow' },
  { from: 'fc00::/7', action: 'allow' },
  { from: 'fe80::/10', action: 'allow' },
  { from: '0.0.0.0/0', action: 'refuse' },
  { from: '::/0', action: 'refuse' },
];

const MEMO_MAX = 8192;

export class Acl {
  private readonly rules: Array<{ net: ipaddr.IPv4 | ipaddr.IPv6; len: number; action: AclAction }>;
  private readonly memo = new Map<string, AclAction>();

  constructor(rules: AclRule[]) {
    this.rules = (rules.length > 0 ? rules : DEFAULT_ACL).map((r) => {
      const [net, len] = ipaddr.parseCIDR(r.from);
      return { net, len, action: r.action };
    });
  }

  check(address: string): AclAction {
    const hit = this.memo.get(address);
    if (hit !== undefined) return hit;
    const action = this.decide(address);
    if (this.memo.size >= MEMO_MAX) this.memo.clear();
    this.memo.set(address, action);
    return action;
  }

  private decide(address: string): AclAction {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = ipaddr.process(address.replace(/%.*$/, '')); // IPv4-mapped IPv6 → IPv4; drop a scope id
    } catch {
      return 'refuse';
    }
    for (const r of this.rules) {
      if (r.net.kind() === addr.kind() && (addr as ipaddr.IPv4).match(r.net as ipaddr.IPv4, r.len)) return r.action;
    }
    return 'refuse'; // an explicit list that matches nothing: refuse, as the default does
  }
}
