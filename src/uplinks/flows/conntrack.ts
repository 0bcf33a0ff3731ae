/**
 * The connection-tracking table through the host port (`conntrack`, from the conntrack
 * package): list the flows, delete those of one uplink. A flow is told to be an uplink's by its
 * reply direction's destination (after masquerade, or for the gateway's own sockets bound to
 * it, that is the uplink's address) or by the packet mark a domain policy gave it.
 */
import { HostError, type HostPort } from '../../host/host-port.js';

export interface FlowEntry {
  /** the original direction's source: a LAN client, or the gateway itself */
  origSrc: string;
  /** the reply direction's destination: the address the far end answers to */
  replyDst: string;
  mark: number;
}

/** One line of `conntrack -L`: the second `dst=` is the reply direction's. */
export function parseFlow(line: string): FlowEntry | null {
  const dsts = [...line.matchAll(/\bdst=(\S+)/g)];
  const src = /\bsrc=(\S+)/.exec(line);
  if (dsts.length < 2 || src === null) return null;
  const mark = /\bmark=(\d+)/.exec(line);
  return { origSrc: src[1], replyDst: dsts[1][1], mark: mark ? Number(mark[1]) : 0 };
}

export async function listFlows(host: HostPort, families: Array<4 | 6>): Promise<FlowEntry[]> {
  const out: FlowEntry[] = [];
  for (const f of families) {
    const text = await host.run('conntrack', ['-L', '-f', f === 4 ? 'ipv4' : 'ipv6'], { timeoutMs: 10_000 });
    for (const line of text.split('\n')) {
      const e = parseFlow(line);
      if (e) out.push(e);
    }
  }
  return out;
}

export type FlowFilter = { replyDst: string } | { mark: number; mask: number };

/** Deletes the matching flows; how many went. `conntrack -D` exits 1 when none matched. */
export async function deleteFlows(host: HostPort, filter: FlowFilter): Promise<number> {
  const args = 'replyDst' in filter
    ? ['-D', '-f', filter.replyDst.includes(':') ? 'ipv6' : 'ipv4', '--reply-dst', filter.replyDst]
    : ['-D', '--mark', `0x${filter.mark.toString(16)}/0x${filter.mask.toString(16)}`];
  try {
    const text = await host.run('conntrack', args, { timeoutMs: 10_000 });
    return text.split('\n').filter((l) => parseFlow(l) !== null).length;
  } catch (e) {
    if (e instanceof HostError && e.code === 'HOST_FAILED' && /\b0 flow entries/.test(e.stderr)) return 0;
    throw e;
  }
}
