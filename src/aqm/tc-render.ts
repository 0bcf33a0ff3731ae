/**
 * Pure: the `tc` (and `ip`) commands that put a shaper on an uplink — egress on its interface,
 * download on an ifb device fed by an ingress redirect — for each kind of queue. edgedns's root
 * qdiscs carry handle `ed:`, so it removes only its own.
 *
 *   cake           root cake bandwidth R besteffort|diffserv3|diffserv4 nat [overhead N] rtt INTERVAL [ingress]
 *   htb+fq_codel   root htb (stab overhead N) → class ed:1 rate R ceil R → fq_codel target/interval/ecn
 *   htb+bfifo      the same with a byte FIFO of max(R × 5 ms, 2 × 64 KB): a delay bound without AQM
 */
import { tcRate } from './rate.js';
import type { QdiscKind, QueueingSettings } from './queueing-model.js';

export interface Command {
  cmd: 'tc' | 'ip';
  args: string[];
}

export const ROOT_HANDLE = 'ed:';
const CLASS = 'ed:1';
export const LEAF_HANDLE = 'ed1:';
const LEAF = LEAF_HANDLE;
/** Veth and GRO hand qdiscs super-packets of up to 64 KB: a smaller byte FIFO would drop each one. */
export const FIFO_FLOOR_BYTES = 2 * 65536;
export const FIFO_DELAY_S = 0.005;

const tc = (...args: string[]): Command => ({ cmd: 'tc', args });
const ip = (...args: string[]): Command => ({ cmd: 'ip', args });

/** HTB's default burst (one MTU) cannot keep a fast class at its rate: allow 2 ms of bytes. */
function htbRate(rateBps: number): string[] {
  const burst = `${Math.max(3200, Math.round((rateBps / 8) * 0.002))}b`;
  return ['rate', tcRate(rateBps), 'ceil', tcRate(rateBps), 'burst', burst, 'cburst', burst];
}

export function fifoLimitBytes(rateBps: number): number {
  return Math.max(Math.round((rateBps / 8) * FIFO_DELAY_S), FIFO_FLOOR_BYTES);
}

/** The shaper on one device (the uplink's interface, or its ifb for downloads). */
export function shaperCommands(dev: string, rateBps: number, kind: QdiscKind, s: QueueingSettings, ingress: boolean): Command[] {
  if (kind === 'cake') {
    return [tc('qdisc', 'replace', 'dev', dev, 'root', 'handle', ROOT_HANDLE, 'cake', 'bandwidth', tcRate(rateBps), s.diffserv, 'nat',
      ...(s.overhead !== undefined ? ['overhead', String(s.overhead)] : []), 'rtt', `${s.intervalMs}ms`, ...(ingress ? ['ingress'] : []))];
  }
  const stab = s.overhead !== undefined ? ['stab', 'overhead', String(s.overhead), 'linklayer', 'ethernet'] : [];
  const leaf = kind === 'htb+fq_codel'
    ? ['fq_codel', 'target', `${s.targetMs}ms`, 'interval', `${s.intervalMs}ms`, s.ecn ? 'ecn' : 'noecn']
    : ['bfifo', 'limit', String(fifoLimitBytes(rateBps))];
  return [
    tc('qdisc', 'replace', 'dev', dev, 'root', 'handle', ROOT_HANDLE, ...stab, 'htb', 'default', '1'),
    tc('class', 'replace', 'dev', dev, 'parent', ROOT_HANDLE, 'classid', CLASS, 'htb', ...htbRate(rateBps)),
    tc('qdisc', 'replace', 'dev', dev, 'parent', CLASS, 'handle', LEAF, ...leaf),
  ];
}

/** A new rate on a shaper already in place (autorate): no queue is reset. */
export function rateCommands(dev: string, rateBps: number, kind: QdiscKind): Command[] {
  if (kind === 'cake') return [tc('qdisc', 'change', 'dev', dev, 'root', 'handle', ROOT_HANDLE, 'cake', 'bandwidth', tcRate(rateBps))];
  const out = [tc('class', 'change', 'dev', dev, 'parent', ROOT_HANDLE, 'classid', CLASS, 'htb', ...htbRate(rateBps))];
  if (kind === 'htb+bfifo') out.push(tc('qdisc', 'change', 'dev', dev, 'parent', CLASS, 'handle', LEAF, 'bfifo', 'limit', String(fifoLimitBytes(rateBps))));
  return out;
}

/** Downloads: redirect everything arriving on the interface to its ifb, and shape the ifb's egress. */
export function ingressCommands(s: QueueingSettings, rateBps: number, kind: QdiscKind): Command[] {
  return [
    ip('link', 'add', s.ifb, 'type', 'ifb'),
    ip('link', 'set', s.ifb, 'up'),
    tc('qdisc', 'add', 'dev', s.interface, 'handle', 'ffff:', 'ingress'),
    tc('filter', 'add', 'dev', s.interface, 'parent', 'ffff:', 'protocol', 'all', 'prio', '1', 'u32', 'match', 'u32', '0', '0',
      'action', 'mirred', 'egress', 'redirect', 'dev', s.ifb),
    ...shaperCommands(s.ifb, rateBps, kind, s, true),
  ];
}

export interface Rates {
  up?: number;
  down?: number;
}

/** Everything for one uplink on a host that has none of it. */
export function planQueueing(s: QueueingSettings, kind: QdiscKind, rates: Rates = { up: s.up, down: s.down }): Command[] {
  return [
    ...(rates.up !== undefined ? shaperCommands(s.interface, rates.up, kind, s, false) : []),
    ...(s.ingress && rates.down !== undefined ? ingressCommands(s, rates.down, kind) : []),
  ];
}

/** What removes it again (each may fail harmlessly when already gone). */
export function removeCommands(s: QueueingSettings): Command[] {
  return [
    tc('qdisc', 'del', 'dev', s.interface, 'root', 'handle', ROOT_HANDLE),
    ...(s.ingress ? [tc('qdisc', 'del', 'dev', s.interface, 'handle', 'ffff:', 'ingress'), ip('link', 'del', s.ifb)] : []),
  ];
}

export function formatCommand(c: Command): string {
  return `${c.cmd} ${c.args.join(' ')}`;
}
