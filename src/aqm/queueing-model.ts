/**
 * Per uplink `smart-queueing:` as the room uses it. On by default when the uplink has a
 * bandwidth (an unshaped fast link gains nothing and risks throughput), off without one.
 */
import type { RawQueueing } from './queueing-section.js';
import { parseRate } from './rate.js';
import { classesFromConfig, type TrafficClass } from './traffic-classes.js';

export type Algorithm = 'auto' | 'cake' | 'fq-codel';
/** What is actually in force on a kernel: the best of what the algorithm allows and the kernel has. */
export type QdiscKind = 'cake' | 'htb+fq_codel' | 'htb+prio';

export interface Autorate {
  /** bits per second */
  min: number;
  base: number;
  max: number;
  /** ms over the baseline RTT that counts as a queue building */
  thresholdMs: number;
}

export interface QueueingSettings {
  uplink: string;
  interface: string;
  /** bits per second; undefined: that direction is not shaped */
  up?: number;
  down?: number;
  algorithm: Algorithm;
  /** ms */
  targetMs: number;
  intervalMs: number;
  ecn: boolean;
  /** link-layer bytes added per packet */
  overhead?: number;
  ingress: boolean;
  autorate?: Autorate;
  /** cake's priority tins */
  diffserv: 'besteffort' | 'diffserv3' | 'diffserv4';
  /** the ifb device that carries the download shaper */
  ifb: string;
  /** `classes:`, first match wins; the rest is best effort */
  classes: TrafficClass[];
}

/** ifb4<interface>, cut to the kernel's 15 characters. */
export function ifbName(iface: string): string {
  return `ifb4${iface}`.slice(0, 15);
}

export function queueingFromConfig(raw: RawQueueing): QueueingSettings[] {
  const out: QueueingSettings[] = [];
  for (const u of raw.uplinks) {
    const q = u['smart-queueing'];
    if (!q) continue;
    const up = q['bandwidth-up'] !== undefined ? parseRate(q['bandwidth-up']) : q.autorate ? parseRate(q.autorate.base) : undefined;
    const down = q['bandwidth-down'] !== undefined ? parseRate(q['bandwidth-down']) : undefined;
    if (q.enabled === false || (q.enabled === undefined && up === undefined && down === undefined)) continue;
    out.push({
      uplink: u.name,
      interface: u.interface,
      up,
      down: q.ingress ? down : undefined,
      algorithm: q.algorithm,
      targetMs: q.target,
      intervalMs: q.interval,
      ecn: q.ecn,
      overhead: q.overhead,
      ingress: q.ingress && down !== undefined,
      autorate: q.autorate ? { min: parseRate(q.autorate.min), base: parseRate(q.autorate.base), max: parseRate(q.autorate.max), thresholdMs: q.autorate.threshold } : undefined,
      diffserv: q.diffserv,
      ifb: ifbName(u.interface),
      classes: classesFromConfig(q.classes),
    });
  }
  return out;
}
