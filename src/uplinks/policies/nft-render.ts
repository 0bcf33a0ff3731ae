/**
 * Domain policies (and the hit counters of every policy) as one nftables script, applied in one
 * transaction. Pure. The table `inet edgedns` is edgedns's own: its chains are flushed and
 * refilled on every change, while its sets (the learned addresses) and named counters persist.
 *
 *   prerouting / output (mangle): a flow already marked by us keeps its mark (conntrack), so an
 *     existing flow keeps its uplink when a policy moves; else jump policies
 *   policies: first match wins. Source/destination policies only count and return (their
 *     routing is `ip rule`); a domain policy marks new flows to its set's addresses with the
 *     mark of the uplink in force (ip rule fwmark → that uplink's table), or drops them.
 */
import { isIPv6 } from 'node:net';
import type { PolicyDecision } from './policy-decision.js';
import { MARK_BASE, nftName, uplinkMark, type Policy } from './policy-model.js';

export const NFT_TABLE = 'edgedns';
const T = `inet ${NFT_TABLE}`;

export interface NftExisting {
  sets: string[];
  counters: string[];
  chains: string[];
}

/** The chains the policies fill (the NAT chain beside them is flows/'s). */
export const POLICY_CHAINS = ['prerouting', 'output', 'policies'];

export function setNames(p: Policy): { v4: string; v6: string } {
  return { v4: `${nftName(p)}_v4`, v6: `${nftName(p)}_v6` };
}

const list = (xs: string[]) => `{ ${xs.join(', ')} }`;

function policyLines(p: Policy, d: PolicyDecision, uplinkIndex: (name: string) => number): string[] {
  const counter = `counter name "${nftName(p)}"`;
  const src = { 4: p.source.filter((s) => !isIPv6(s.split('/')[0])), 6: p.source.filter((s) => isIPv6(s.split('/')[0])) };
  const dst = { 4: p.destination.filter((s) => !isIPv6(s.split('/')[0])), 6: p.destination.filter((s) => isIPv6(s.split('/')[0])) };
  const out: string[] = [];
  for (const fam of [4, 6] as const) {
    const ip = fam === 4 ? 'ip' : 'ip6';
    // a family this policy's source prefixes leave out is not matched in that family
    if (p.source.length > 0 && src[fam].length === 0) continue;
    const from = src[fam].length > 0 ? ` ${ip} saddr ${list(src[fam])}` : '';
    if (p.domains.length === 0) {
      if (p.destination.length > 0 && dst[fam].length === 0) continue;
      const to = dst[fam].length > 0 ? ` ${ip} daddr ${list(dst[fam])}` : '';
      out.push(`add rule ${T} policies ct state new${from}${to} ${counter} return`);
      continue;
    }
    const set = ` ${ip} daddr @${fam === 4 ? setNames(p).v4 : setNames(p).v6}`;
    if (d.action === 'drop') out.push(`add rule ${T} policies${from}${set} ${counter} drop`);
    else if (d.action === 'default') out.push(`add rule ${T} policies ct state new${from}${set} ${counter} return`);
    else {
      const mark = `0x${uplinkMark(uplinkIndex(d.uplink!)).toString(16)}`;
      out.push(`add rule ${T} policies ct state new${from}${set} ${counter} meta mark set ${mark} ct mark set ${mark} return`);
    }
  }
  return out;
}

export function renderNft(policies: Policy[], decisions: PolicyDecision[], uplinkIndex: (name: string) => number, existing: NftExisting): string {
  const wantSets = policies.filter((p) => p.domains.length > 0).flatMap((p) => {
    const n = setNames(p);
    return [[n.v4, 'ipv4_addr'], [n.v6, 'ipv6_addr']] as const;
  });
  const wantCounters = policies.map(nftName);
  const lines = [
    `add table ${T}`,
    `add chain ${T} prerouting { type filter hook prerouting priority mangle; policy accept; }`,
    `add chain ${T} output { type route hook output priority mangle; policy accept; }`,
    `add chain ${T} policies`,
    ...wantCounters.map((c) => `add counter ${T} ${c}`),
    ...wantSets.map(([name, type]) => `add set ${T} ${name} { type ${type}; flags timeout; }`),
    `flush chain ${T} prerouting`,
    `flush chain ${T} output`,
    `flush chain ${T} policies`,
  ];
  for (const hook of ['prerouting', 'output']) {
    lines.push(`add rule ${T} ${hook} ct mark and 0xff00 == 0x${MARK_BASE.toString(16)} meta mark set ct mark return`);
    lines.push(`add rule ${T} ${hook} jump policies`);
  }
  policies.forEach((p, i) => lines.push(...policyLines(p, decisions[i], uplinkIndex)));
  const setsWanted = new Set(wantSets.map(([n]) => n));
  for (const s of existing.sets) if (!setsWanted.has(s)) lines.push(`delete set ${T} ${s}`);
  for (const c of existing.counters) if (!wantCounters.includes(c)) lines.push(`delete counter ${T} ${c}`);
  return `${lines.join('\n')}\n`;
}

/** One set element with its timeout, and the delete that refreshes one already there. */
export function elementAdd(set: string, address: string, timeoutS: number): string {
  return `add element ${T} ${set} { ${address} timeout ${Math.max(1, timeoutS)}s }`;
}

export function elementDelete(set: string, address: string): string {
  return `delete element ${T} ${set} { ${address} }`;
}

/** Takes out what the policies own, leaving anything else in the table (NAT) alone. */
export function renderPolicyRemoval(existing: NftExisting): string {
  const lines = [
    ...POLICY_CHAINS.filter((c) => existing.chains.includes(c)).map((c) => `delete chain ${T} ${c}`),
    ...existing.sets.map((s) => `delete set ${T} ${s}`),
    ...existing.counters.map((c) => `delete counter ${T} ${c}`),
  ];
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export const DELETE_TABLE = `delete table ${T}\n`;
