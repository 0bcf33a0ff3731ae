/**
 * Who may change what (`ddns.accept`, first match wins), like BIND's update-policy: a rule
 * matches an UPDATE by the key that signed it and/or the prefix it came from, then allows
 * names (exact, "*.name" for its descendants, "*") and types.
 */
import { ipaddr } from '../cjs.js';
import type { AcceptRule } from './ddns-section.js';

export function nameMatches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return name.endsWith(`.${pattern.slice(2)}`);
  return name === pattern;
}

export function fromMatches(prefixes: string[] | undefined, address: string): boolean {
  if (prefixes === undefined) return true;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(address);
  } catch {
    return false;
  }
  return prefixes.some((p) => {
    const [net, len] = ipaddr.parseCIDR(p);
    return net.kind() === addr.kind() && addr.match([net, len] as never);
  });
}

/** The first rule for this requester: signed with `key` (null: unsigned) from `address`. */
export function ruleFor(rules: AcceptRule[], key: string | null, address: string): AcceptRule | undefined {
  return rules.find((r) => (r.key === undefined ? r.from !== undefined && key === null : r.key === key) && fromMatches(r.from, address));
}

export function permits(rule: AcceptRule, name: string, type: number): boolean {
  return rule.names.some((p) => nameMatches(p, name)) && rule.types.includes(type);
}
