/**
 * NAT per uplink as nftables script, in edgedns's own table beside the policies' chains. Pure.
 * Chains flushed and refilled on every change:
 *   nat_postrouting   IPv4 leaving an uplink is masqueraded to that uplink's address
 *   flows_mark        a new flow's conntrack entry gets the mark of the uplink it leaves by
 *   flows_restore     every later packet of the flow carries that mark again, and the per-uplink
 *                     `fwmark` rule (route plan) keeps it on that uplink
 * So a flow keeps its uplink and its address for its life, whatever the selection does later
 * (a translated flow moved to another uplink would leave with the wrong source and die); a
 * failover removes the failed uplink's flows instead (flow-keeper.ts). IPv6 is not translated:
 * a delegated prefix routes as it is; its flows are marked and kept all the same.
 */
import { MARK_BASE, uplinkMark } from '../policies/policy-model.js';
import { NFT_TABLE } from '../policies/nft-render.js';

export const NAT_CHAIN = 'nat_postrouting';
export const FLOW_CHAINS = [NAT_CHAIN, 'flows_mark', 'flows_restore'];
const T = `inet ${NFT_TABLE}`;
const hex = (n: number) => `0x${n.toString(16)}`;

/** `interfaces`: the uplinks' interfaces in file order (an uplink's mark is its position). */
export function renderNat(interfaces: string[]): string {
  const lines = [
    `add table ${T}`,
    `add chain ${T} ${NAT_CHAIN} { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain ${T} flows_mark { type filter hook postrouting priority mangle; policy accept; }`,
    `add chain ${T} flows_restore { type filter hook prerouting priority mangle; policy accept; }`,
    ...FLOW_CHAINS.map((c) => `flush chain ${T} ${c}`),
    `add rule ${T} flows_restore ct mark and 0xff00 == ${hex(MARK_BASE)} meta mark set ct mark`,
  ];
  const seen = new Set<string>();
  interfaces.forEach((i, j) => {
    if (seen.has(i)) return;
    seen.add(i);
    lines.push(`add rule ${T} flows_mark ct state new ct mark and 0xff00 != ${hex(MARK_BASE)} oifname "${i}" ct mark set ${hex(uplinkMark(j))}`);
    lines.push(`add rule ${T} ${NAT_CHAIN} meta nfproto ipv4 oifname "${i}" counter masquerade`);
  });
  return `${lines.join('\n')}\n`;
}

export const DELETE_NAT = FLOW_CHAINS.map((c) => `delete chain ${T} ${c}`).join('\n') + '\n';
