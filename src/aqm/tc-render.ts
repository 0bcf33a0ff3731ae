/**
 * Pure: the `tc` (and `ip`) commands that put a shaper on an uplink — egress on its interface,
 * download on an ifb device fed by an ingress redirect — for each kind of queue. edgedns's root
 * qdiscs carry handle `ed:`, so it removes only its own.
 *
 *   cake          root cake bandwidth R besteffort|diffserv3|diffserv4 nat [overhead N] rtt INTERVAL [ingress];
 *                 traffic classes go to the Video tin of diffserv4 (cake has tins, not rates)
 *   htb+fq_codel  root htb (stab overhead N) → ed:1 at R → a class per traffic class (rate, ceil) and
 *                 best effort ed:30, each with an fq_codel leaf
 *   htb+prio      for kernels with neither: the same tree with byte FIFOs, plus an interactive class
 *                 ed:10 served first (ICMP, DNS, small packets such as pure ACKs, DSCP EF/CS6/CS7);
 *                 each FIFO is sized from its rate and a delay (see `fifoLimitBytes`), and GSO/TSO/GRO
 *                 go off below OFFLOAD_OFF_BELOW so a queue holds real packets, not 64 KB super-packets
 */
import { tcRate } from './rate.js';
import type { QdiscKind, QueueingSettings } from './queueing-model.js';
import type { TrafficClass } from './traffic-classes.js';

export interface Command {
  cmd: 'tc' | 'ip' | 'ethtool';
  args: string[];
}

export const ROOT_HANDLE = 'ed:';
const TOTAL = 'ed:1';
const INTERACTIVE = 'ed:10';
const BEST_EFFORT = 'ed:30';
/** Minor numbers are hex: class i is ed:2i (ed:20 … ed:28). */
const classId = (c: TrafficClass) => `ed:${20 + c.index}`;
const leafOf = (classid: string) => `e${classid.slice(3)}:`;

/** Below this rate GSO, TSO and GRO are turned off on the shaped devices (restored on stop). */
export const OFFLOAD_OFF_BELOW = 500e6;
/** Veth and GRO hand qdiscs super-packets of up to 64 KB: a FIFO that takes them needs room for two. */
export const GSO_FIFO_FLOOR_BYTES = 2 * 65536;
/** With offloads off, packets are at most an MTU: room for four. */
export const MTU_FIFO_FLOOR_BYTES = 4 * 1514;
/** How long a packet may wait in a best-effort (or class) FIFO at the class's ceiling. */
export const BULK_DELAY_S = 0.02;
/** …and in the interactive FIFO, at the link rate (it is served first, so it is nearly always empty). */
export const INTERACTIVE_DELAY_S = 0.01;

const tc = (...args: string[]): Command => ({ cmd: 'tc', args });
const ip = (...args: string[]): Command => ({ cmd: 'ip', args });

export function offloadsOff(rateBps: number): boolean {
  return rateBps < OFFLOAD_OFF_BELOW;
}

/** HTB's default burst (one MTU) cannot keep a fast class at its rate: allow 2 ms of bytes. */
function htbRate(rateBps: number, ceilBps = rateBps): string[] {
  const burst = (bps: number) => `${Math.max(3200, Math.round((bps / 8) * 0.002))}b`;
  // quantum: one MTU for slow classes, about 1 ms of bytes for fast ones (tc warns past 200000)
  const quantum = Math.min(200_000, Math.max(1514, Math.round((rateBps / 8) * 0.001)));
  return ['rate', tcRate(rateBps), 'ceil', tcRate(ceilBps), 'burst', burst(rateBps), 'cburst', burst(ceilBps), 'quantum', String(quantum)];
}

/** A FIFO that holds `delayS` at `rateBps`, and never less than two or four packets. */
export function fifoLimitBytes(rateBps: number, delayS = BULK_DELAY_S): number {
  const floor = offloadsOff(rateBps) ? MTU_FIFO_FLOOR_BYTES : GSO_FIFO_FLOOR_BYTES;
  return Math.max(Math.round((rateBps / 8) * delayS), floor);
}

/** The longest a packet waits in our queue at `rateBps`, in ms: what a rendered tree promises. */
export function delayBoundMs(rateBps: number, delayS = BULK_DELAY_S): number {
  return Math.round(((fifoLimitBytes(rateBps, delayS) * 8) / rateBps) * 10_000) / 10;
}

export interface ClassPlan {
  name: string;
  classid: string;
  rate: number;
  ceil: number;
  /** the FIFO bound (htb+prio), ms */
  delayMs?: number;
}

/** The rates of the tree under one shaper: interactive (htb+prio only), the classes, best effort. */
export function classPlan(rateBps: number, kind: QdiscKind, classes: TrafficClass[]): ClassPlan[] {
  const out: ClassPlan[] = [];
  const interactive = kind === 'htb+prio' ? Math.max(rateBps * 0.1, 128_000) : 0;
  if (kind === 'htb+prio') out.push({ name: 'interactive', classid: INTERACTIVE, rate: interactive, ceil: rateBps, delayMs: delayBoundMs(rateBps, INTERACTIVE_DELAY_S) });
  let guaranteed = 0;
  for (const c of classes) {
    const ceil = Math.min(c.ceil ?? rateBps, rateBps);
    const rate = Math.min(c.rate, ceil);
    guaranteed += rate;
    out.push({ name: c.name, classid: classId(c), rate, ceil, delayMs: kind === 'htb+prio' ? delayBoundMs(ceil) : undefined });
  }
  out.push({
    name: 'best-effort', classid: BEST_EFFORT, rate: Math.max(rateBps - interactive - guaranteed, rateBps * 0.05), ceil: rateBps,
    delayMs: kind === 'htb+prio' ? delayBoundMs(rateBps) : undefined,
  });
  return out;
}

/**
 * u32 filters that put packets in their class. Egress matches the remote end by destination,
 * the download side (`ingress`) by source; LAN sources the other way round.
 */
export function classFilters(dev: string, kind: QdiscKind, classes: TrafficClass[], ingress: boolean): Command[] {
  const out: Command[] = [];
  const flow = (classid: string) => (kind === 'cake' ? 'ed:3' : classid); // cake: the Video tin of diffserv4
  const add = (prio: number, proto: 'ip' | 'ipv6', match: string[], classid: string) =>
    out.push(tc('filter', 'add', 'dev', dev, 'parent', ROOT_HANDLE, 'protocol', proto, 'prio', String(familyPrio(prio, proto)), 'u32', ...match, 'flowid', flow(classid)));
  for (const c of classes) {
    const prio = staticPrio(c);
    for (const d of c.dscp) {
      const tos = `0x${(d << 2).toString(16)}`;
      add(prio, 'ip', ['match', 'ip', 'dsfield', tos, '0xfc'], classId(c));
      add(prio, 'ipv6', ['match', 'ip6', 'priority', tos, '0xfc'], classId(c));
    }
    for (const src of c.sources) {
      const v6 = src.includes(':');
      add(prio, v6 ? 'ipv6' : 'ip', ['match', v6 ? 'ip6' : 'ip', ingress ? 'dst' : 'src', src], classId(c));
    }
  }
  if (kind !== 'htb+prio') return out;
  // Interactive: served before everything else while under its own rate.
  const p = 40;
  add(p, 'ip', ['match', 'ip', 'protocol', '1', '0xff'], INTERACTIVE); // ICMP
  add(p, 'ipv6', ['match', 'ip6', 'protocol', '58', '0xff'], INTERACTIVE); // ICMPv6
  // DNS, UDP and TCP, and DNS over TLS (and QUIC): the gateway's own upstream queries go by 853,
  // and a DoT query is too big to pass as a small packet — it waited behind bulk (the lab's row 7)
  const port = ingress ? 'sport' : 'dport';
  for (const dns of ['53', '853']) {
    add(p, 'ip', ['match', 'ip', port, dns, '0xffff'], INTERACTIVE);
    add(p, 'ipv6', ['match', 'ip6', port, dns, '0xffff'], INTERACTIVE);
  }
  for (const tos of ['0xb8', '0xc0', '0xe0']) { // EF, CS6, CS7
    add(p, 'ip', ['match', 'ip', 'dsfield', tos, '0xfc'], INTERACTIVE);
    add(p, 'ipv6', ['match', 'ip6', 'priority', tos, '0xfc'], INTERACTIVE);
  }
  // Small packets (IPv4 total length < 128, IPv6 payload < 128): pure ACKs, game and call traffic.
  add(p + 1, 'ip', ['match', 'u16', '0x0000', '0xff80', 'at', '2'], INTERACTIVE);
  add(p + 1, 'ipv6', ['match', 'u16', '0x0000', '0xff80', 'at', '4'], INTERACTIVE);
  return out;
}

/** u32 keeps one protocol per priority: IPv6 filters sit 100 above their IPv4 twins. */
function familyPrio(prio: number, proto: 'ip' | 'ipv6'): number {
  return proto === 'ipv6' ? prio + 100 : prio;
}

/** Filter priorities: class i's static matches at 2i+1, its learned addresses at 2i+2. */
export function staticPrio(c: TrafficClass): number {
  return 2 * c.index + 1;
}

export function learnedPrio(c: TrafficClass): number {
  return 2 * c.index + 2;
}

/** The filter that sends a learned address of a domain class to its class. */
export function learnedFilter(dev: string, kind: QdiscKind, c: TrafficClass, address: string, ingress: boolean): Command {
  const v6 = address.includes(':');
  return tc('filter', 'add', 'dev', dev, 'parent', ROOT_HANDLE, 'protocol', v6 ? 'ipv6' : 'ip', 'prio', String(familyPrio(learnedPrio(c), v6 ? 'ipv6' : 'ip')), 'u32',
    'match', v6 ? 'ip6' : 'ip', ingress ? 'src' : 'dst', `${address}/${v6 ? 128 : 32}`, 'flowid', kind === 'cake' ? 'ed:3' : classId(c));
}

/** Removes every learned-address filter of a class (they are put back from what is still held). */
export function learnedFlush(dev: string, c: TrafficClass, v6: boolean): Command {
  return tc('filter', 'del', 'dev', dev, 'parent', ROOT_HANDLE, 'protocol', v6 ? 'ipv6' : 'ip', 'prio', String(familyPrio(learnedPrio(c), v6 ? 'ipv6' : 'ip')));
}

function leafQdisc(kind: QdiscKind, s: QueueingSettings, p: ClassPlan, linkRate: number): string[] {
  if (kind === 'htb+fq_codel') return ['fq_codel', 'target', `${s.targetMs}ms`, 'interval', `${s.intervalMs}ms`, s.ecn ? 'ecn' : 'noecn'];
  const limit = p.classid === INTERACTIVE ? fifoLimitBytes(linkRate, INTERACTIVE_DELAY_S) : fifoLimitBytes(p.ceil);
  return ['bfifo', 'limit', String(limit)];
}

/** The shaper on one device (the uplink's interface, or its ifb for downloads). */
export function shaperCommands(dev: string, rateBps: number, kind: QdiscKind, s: QueueingSettings, ingress: boolean): Command[] {
  if (kind === 'cake') {
    const diffserv = s.classes.length > 0 ? 'diffserv4' : s.diffserv;
    return [
      tc('qdisc', 'replace', 'dev', dev, 'root', 'handle', ROOT_HANDLE, 'cake', 'bandwidth', tcRate(rateBps), diffserv, 'nat',
        ...(s.overhead !== undefined ? ['overhead', String(s.overhead)] : []), 'rtt', `${s.intervalMs}ms`, ...(ingress ? ['ingress'] : [])),
      ...classFilters(dev, kind, s.classes, ingress),
    ];
  }
  const stab = s.overhead !== undefined ? ['stab', 'overhead', String(s.overhead), 'linklayer', 'ethernet'] : [];
  const plan = classPlan(rateBps, kind, s.classes);
  return [
    tc('qdisc', 'replace', 'dev', dev, 'root', 'handle', ROOT_HANDLE, ...stab, 'htb', 'default', '30'),
    tc('class', 'replace', 'dev', dev, 'parent', ROOT_HANDLE, 'classid', TOTAL, 'htb', ...htbRate(rateBps)),
    ...plan.flatMap((p, i) => [
      tc('class', 'replace', 'dev', dev, 'parent', TOTAL, 'classid', p.classid, 'htb', ...htbRate(p.rate, p.ceil), 'prio', String(Math.min(i, 7))),
      tc('qdisc', 'replace', 'dev', dev, 'parent', p.classid, 'handle', leafOf(p.classid), ...leafQdisc(kind, s, p, rateBps)),
    ]),
    ...classFilters(dev, kind, s.classes, ingress),
  ];
}

/** A new rate on a shaper already in place (autorate): no queue is reset. */
export function rateCommands(dev: string, rateBps: number, kind: QdiscKind, s: QueueingSettings): Command[] {
  if (kind === 'cake') return [tc('qdisc', 'change', 'dev', dev, 'root', 'handle', ROOT_HANDLE, 'cake', 'bandwidth', tcRate(rateBps))];
  const out = [tc('class', 'change', 'dev', dev, 'parent', ROOT_HANDLE, 'classid', TOTAL, 'htb', ...htbRate(rateBps))];
  classPlan(rateBps, kind, s.classes).forEach((p, i) => {
    out.push(tc('class', 'change', 'dev', dev, 'parent', TOTAL, 'classid', p.classid, 'htb', ...htbRate(p.rate, p.ceil), 'prio', String(Math.min(i, 7))));
    if (kind === 'htb+prio') out.push(tc('qdisc', 'change', 'dev', dev, 'parent', p.classid, 'handle', leafOf(p.classid), ...leafQdisc(kind, s, p, rateBps)));
  });
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

/** What removes it again — and what apply runs first, to build from nothing of ours (each may fail harmlessly). */
export function removeCommands(s: QueueingSettings): Command[] {
  return [
    tc('qdisc', 'del', 'dev', s.interface, 'root', 'handle', ROOT_HANDLE),
    ...(s.ingress ? [tc('qdisc', 'del', 'dev', s.interface, 'handle', 'ffff:', 'ingress'), ip('link', 'del', s.ifb)] : []),
  ];
}

/** A one-line account of a rendered tree, as a comment for --dry-run and the status. */
export function describeTree(rateBps: number, kind: QdiscKind, classes: TrafficClass[]): string {
  if (kind === 'cake') return `cake at ${tcRate(rateBps)}${classes.length ? `; classes ${classes.map((c) => c.name).join(', ')} in the Video tin` : ''}`;
  return classPlan(rateBps, kind, classes).map((p) =>
    `${p.name} ${tcRate(p.rate)}–${tcRate(p.ceil)}${p.delayMs !== undefined ? ` (waits ≤ ${p.delayMs} ms)` : ''}`).join('; ');
}

export function formatCommand(c: Command): string {
  return `${c.cmd} ${c.args.join(' ')}`;
}
