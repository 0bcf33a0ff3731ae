/**
 * Smart queueing while edgedns serves: finds what the kernel offers once, puts each configured
 * uplink's shaper in place (egress, and downloads through an ifb) with its traffic classes,
 * turns offloads off below the threshold, follows uplink RTT samples with autorate where
 * configured, samples every class each second (sent, drops, backlog → queue delay p50/p99 over
 * the last minute), and on stop removes its qdiscs and gives the offloads back.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { UplinkEvents } from '../uplinks/uplink-source.js';
import { AutorateController } from './autorate.js';
import { algorithmWarning, chooseKind, probeCapabilities, type Capabilities } from './capabilities.js';
import { ClassLearner } from './class-learner.js';
import { disableOffloads, restoreOffloads } from './offloads.js';
import type { QdiscKind, QueueingSettings } from './queueing-model.js';
import {
  classPlan, describeTree, ingressCommands, offloadsOff, rateCommands, removeCommands, ROOT_HANDLE, shaperCommands,
} from './tc-render.js';
import { classStats, qdiscs, runAll, runCommand, runTcBatch, type TcQdisc } from './tc-runner.js';
import { systemHost, type HostPort } from '../host/host-port.js';
import { showRate } from './rate.js';

/** Seconds of queue-delay samples a class keeps for its percentiles. */
const DELAY_WINDOW = 60;

export interface ClassStatus {
  direction: 'up' | 'down';
  name: string;
  /** bits per second: guaranteed and most */
  rate: number;
  ceil: number;
  sentBytes: number;
  sentPackets: number;
  dropped: number;
  overlimits: number;
  backlog: number;
  /** backlog ÷ ceiling, sampled each second over the last minute */
  delayMs: { p50: number; p99: number };
  /** domain classes: addresses learned from answers */
  addresses?: string[];
}

export interface QueueingStatus {
  name: string;
  interface: string;
  /** what is in force: cake, htb+fq_codel, htb+bfifo; null when not applied */
  qdisc: QdiscKind | null;
  /** why that one (kernel capabilities, config) or why none */
  reason: string;
  rate: { up: number | null; down: number | null };
  backlog: number;
  drops: number;
  marks: number;
  overlimits: number;
  autorate: { up: number; down: number | null; baselineMs: number | null; lastChange: string | null } | null;
  /** the tree in force: each class, its rates and the longest wait its FIFO allows */
  tree: { up: string | null; down: string | null };
  /** GSO/TSO/GRO: "off" (below the threshold), "kept" (at or above it), or why they could not be changed */
  offloads: string;
  classes: ClassStatus[];
}

interface ClassSample {
  sent: { bytes: number; packets: number; drops: number; overlimits: number };
  backlog: number;
  delays: number[];
}

interface Runtime {
  s: QueueingSettings;
  kind: QdiscKind | null;
  reason: string;
  up?: AutorateController;
  down?: AutorateController;
  counters: { at: number; tx: number; rx: number } | null;
  lastChange: string | null;
  changing: boolean;
  /** device → offloads edgedns turned off there */
  offloaded: Map<string, string[]>;
  offloads: string;
  /** `${direction} ${classid}` → last sample */
  samples: Map<string, ClassSample>;
}

function counter(host: HostPort, dev: string, which: 'tx_bytes' | 'rx_bytes'): number {
  return Number(host.read(`/sys/class/net/${dev}/statistics/${which}`) ?? 0);
}

/** Our qdiscs on a device (root handle `ed:` and the leaves under it), or none when it cannot be read. */
async function ownQdiscs(host: HostPort, dev: string): Promise<TcQdisc[]> {
  return (await qdiscs(host, dev).catch(() => [] as TcQdisc[])).filter((q) => q.handle === ROOT_HANDLE || (q.parent?.startsWith(ROOT_HANDLE) ?? false));
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)] * 10) / 10;
}

/** The queue is the htb leaf, or cake itself at the root; the htb root only shapes. */
const holdsPackets = (q: TcQdisc) => q.kind !== 'htb';

export class QueueingService {
  private caps: Capabilities | null = null;
  private readonly rt: Runtime[];
  private unsubscribe: (() => void) | null = null;
  private sampler: NodeJS.Timeout | null = null;
  /** Domain classes: set as the resolver's answer observer (with the policies' one) while serving. */
  learner: ClassLearner | null = null;

  constructor(
    settings: QueueingSettings[], private readonly monitor: () => UplinkEvents | null, private readonly clock: Clock, private readonly log: Logger,
    private readonly host: HostPort = systemHost,
  ) {
    this.rt = settings.map((s) => ({
      s, kind: null, reason: 'not applied yet', counters: null, lastChange: null, changing: false, offloaded: new Map(), offloads: 'kept', samples: new Map(),
    }));
  }

  /** `sample`: false for a one-shot apply (`edgedns queueing apply`), which samples nothing. */
  async start(sample = true): Promise<void> {
    this.caps = await probeCapabilities(this.host);
    this.log.info({ cake: this.caps.cake, fq_codel: this.caps.fqCodel, error: this.caps.error }, 'smart queueing: kernel capabilities');
    for (const r of this.rt) await this.apply(r);
    const targets = ClassLearner.targetsFor(this.rt);
    if (targets.length > 0) this.learner = new ClassLearner(targets, (cmds) => runTcBatch(this.host, cmds), this.clock, this.log);
    this.follow(this.monitor());
    if (sample && this.rt.some((r) => r.kind !== null && r.kind !== 'cake')) {
      this.sampler = setInterval(() => void this.sample(), 1000);
      this.sampler.unref();
    }
  }

  /** Each second: every class's counters and backlog, on the interface and its ifb. */
  private async sample(): Promise<void> {
    for (const r of this.rt) {
      if (r.kind === null || r.kind === 'cake') continue;
      for (const [direction, dev, rate] of this.devices(r)) {
        const [classes, leaves] = await Promise.all([classStats(this.host, dev).catch(() => []), ownQdiscs(this.host, dev)]);
        for (const p of classPlan(rate, r.kind, r.s.classes)) {
          const c = classes.find((x) => x.classid === p.classid);
          const leaf = leaves.find((q) => q.parent === p.classid);
          if (!c) continue;
          const key = `${direction} ${p.classid}`;
          const sample = r.samples.get(key) ?? { sent: { bytes: 0, packets: 0, drops: 0, overlimits: 0 }, backlog: 0, delays: [] };
          sample.sent = { bytes: c.bytes, packets: c.packets, drops: c.drops + (leaf?.drops ?? 0), overlimits: c.overlimits };
          sample.backlog = leaf?.backlog ?? 0;
          sample.delays.push((sample.backlog * 8 * 1000) / p.ceil);
          if (sample.delays.length > DELAY_WINDOW) sample.delays.shift();
          r.samples.set(key, sample);
        }
      }
    }
  }

  /** The shaped devices of an uplink: [direction, device, rate now]. */
  private devices(r: Runtime): Array<['up' | 'down', string, number]> {
    const out: Array<['up' | 'down', string, number]> = [];
    if (r.s.up !== undefined) out.push(['up', r.s.interface, r.up?.rate ?? r.s.up]);
    if (r.s.ingress && r.s.down !== undefined) out.push(['down', r.s.ifb, r.down?.rate ?? r.s.down]);
    return out;
  }

  /** A new uplink monitor after a reload: its RTT samples drive autorate from now on. */
  follow(m: UplinkEvents | null): void {
    this.unsubscribe?.();
    this.unsubscribe = m?.onRtt((uplink, rttMs, at) => this.onRtt(uplink, rttMs, at)) ?? null;
  }

  private async apply(r: Runtime): Promise<void> {
    const { kind, reason } = chooseKind(r.s.algorithm, this.caps!);
    const warning = algorithmWarning(r.s.algorithm, this.caps!);
    if (warning !== null) this.log.warn({ uplink: r.s.uplink }, `smart queueing: ${warning}`);
    const a = r.s.autorate;
    if (a && r.s.up !== undefined) r.up = new AutorateController({ ...a, thresholdMs: a.thresholdMs });
    if (a && r.s.down !== undefined && r.s.up !== undefined) {
      const k = r.s.down / r.s.up; // downloads follow the same controller law within bounds scaled to their rate
      r.down = new AutorateController({ min: a.min * k, base: r.s.down, max: a.max * k, thresholdMs: a.thresholdMs });
    }
    try {
      // From nothing of ours: a tree left by an earlier run (or a failed apply) cannot be changed in place.
      for (const c of removeCommands(r.s)) await runCommand(this.host, c).catch(() => undefined);
      if (r.s.up !== undefined) await runAll(this.host, shaperCommands(r.s.interface, r.up?.rate ?? r.s.up, kind, r.s, false));
      if (r.s.ingress && r.s.down !== undefined) await runAll(this.host, ingressCommands(r.s, r.down?.rate ?? r.s.down, kind));
      r.kind = kind;
      r.reason = warning ?? reason;
      await this.setOffloads(r);
      this.log.info({ uplink: r.s.uplink, interface: r.s.interface, qdisc: kind, why: reason,
        up: r.s.up !== undefined ? showRate(r.up?.rate ?? r.s.up) : null, down: r.s.down !== undefined ? showRate(r.s.down) : null }, 'smart queueing applied');
    } catch (e) {
      for (const c of removeCommands(r.s)) await runCommand(this.host, c).catch(() => undefined);
      r.kind = null;
      r.reason = `apply failed: ${(e as Error).message}`;
      this.log.error({ uplink: r.s.uplink, err: (e as Error).message }, 'smart queueing: apply failed; the interface keeps what it had');
    }
  }

  /**
   * Below the threshold the shaped devices' queues must count real packets: GSO/TSO/GRO off on
   * the interface (GRO there is what builds super-packets before the ifb sees them) and the ifb.
   */
  private async setOffloads(r: Runtime): Promise<void> {
    const fastest = Math.max(r.s.up ?? 0, r.s.down ?? 0, r.s.autorate?.max ?? 0);
    if (!offloadsOff(fastest) || r.kind === 'cake') {
      r.offloads = 'kept';
      return;
    }
    const errors: string[] = [];
    for (const dev of [r.s.interface, ...(r.s.ingress && r.s.down !== undefined ? [r.s.ifb] : [])]) {
      const { restore, error } = await disableOffloads(this.host, dev);
      if (error !== null) errors.push(error);
      if (restore.length > 0 && dev === r.s.interface) r.offloaded.set(dev, restore);
    }
    r.offloads = errors.length === 0 ? 'off' : `kept: ${errors[0]}`;
    if (errors.length > 0) this.log.warn({ uplink: r.s.uplink, err: errors[0] }, 'smart queueing: could not turn GSO/TSO/GRO off; queues hold 64 KB super-packets');
  }

  /** ms the packets now in our own queues (egress, and the ifb for downloads) will wait. */
  private async ownDelayMs(r: Runtime): Promise<number> {
    const backlog = async (dev: string) => (await ownQdiscs(this.host, dev)).filter(holdsPackets).reduce((n, q) => n + q.backlog, 0);
    const up = r.up ? ((await backlog(r.s.interface)) * 8 * 1000) / r.up.rate : 0;
    const down = r.down ? ((await backlog(r.s.ifb)) * 8 * 1000) / r.down.rate : 0;
    return up + down;
  }

  private onRtt(uplink: string, rttMs: number, at: number): void {
    const r = this.rt.find((x) => x.s.uplink === uplink);
    if (!r || !r.up || r.kind === null || r.changing) return;
    if (!r.up.due(at)) {
      r.up.step(rttMs, 0, at); // remembered for the next step
      r.down?.step(rttMs, 0, at);
      return;
    }
    r.changing = true;
    void this.ownDelayMs(r).then((own) => this.autorateStep(r, rttMs, at, own)).finally(() => { r.changing = false; });
  }

  private async autorateStep(r: Runtime, rttMs: number, at: number, ownDelayMs: number): Promise<void> {
    const uplink = r.s.uplink;
    const tx = counter(this.host, r.s.interface, 'tx_bytes');
    const rx = counter(this.host, r.s.interface, 'rx_bytes');
    const prev = r.counters;
    if (prev === null || at - prev.at < 50) {
      if (prev === null) r.counters = { at, tx, rx };
      return;
    }
    const secs = (at - prev.at) / 1000;
    r.counters = { at, tx, rx };
    const up = r.up!;
    const upLoad = ((tx - prev.tx) * 8) / secs / up.rate;
    const stepUp = up.step(rttMs, upLoad, at, ownDelayMs);
    const stepDown = r.down?.step(rttMs, ((rx - prev.rx) * 8) / secs / r.down.rate, at, ownDelayMs);
    if (!stepUp.changed && !stepDown?.changed) return;
    const kind = r.kind!;
    const cmds = [
      ...(stepUp.changed ? rateCommands(r.s.interface, stepUp.rate, kind, r.s) : []),
      ...(stepDown?.changed ? rateCommands(r.s.ifb, stepDown.rate, kind, r.s) : []),
    ];
    r.lastChange = new Date(at).toISOString();
    await runAll(this.host, cmds).then(
      () => this.log.debug({ uplink, up: showRate(stepUp.rate), own: Math.round(ownDelayMs * 10) / 10, why: stepUp.reason }, 'autorate'),
      (e: Error) => this.log.warn({ uplink, err: e.message }, 'autorate: rate change failed'),
    );
  }

  async status(): Promise<QueueingStatus[]> {
    const out: QueueingStatus[] = [];
    for (const r of this.rt) {
      const mine = [...await ownQdiscs(this.host, r.s.interface), ...(r.s.ingress ? await ownQdiscs(this.host, r.s.ifb) : [])];
      const queues = mine.filter(holdsPackets);
      const sum = (f: (q: TcQdisc) => number) => queues.reduce((n, q) => n + f(q), 0);
      out.push({
        name: r.s.uplink,
        interface: r.s.interface,
        qdisc: mine.length > 0 ? r.kind : null,
        reason: mine.length > 0 || r.kind === null ? r.reason : 'not in force: the qdisc was removed from outside',
        rate: { up: r.s.up === undefined ? null : r.up?.rate ?? r.s.up, down: r.s.down === undefined ? null : r.down?.rate ?? r.s.down },
        backlog: sum((q) => q.backlog),
        drops: sum((q) => q.drops),
        marks: sum((q) => q.ecn_mark ?? (q.tins ?? []).reduce((n, t) => n + (t.ecn_mark ?? 0), 0)),
        overlimits: mine.reduce((n, q) => n + q.overlimits, 0),
        autorate: r.up ? { up: r.up.rate, down: r.down?.rate ?? null, baselineMs: r.up.baselineMs, lastChange: r.lastChange } : null,
        tree: {
          up: r.kind !== null && r.s.up !== undefined ? describeTree(r.up?.rate ?? r.s.up, r.kind, r.s.classes) : null,
          down: r.kind !== null && r.s.ingress && r.s.down !== undefined ? describeTree(r.down?.rate ?? r.s.down, r.kind, r.s.classes) : null,
        },
        offloads: r.offloads,
        classes: this.classStatus(r),
      });
    }
    return out;
  }

  private classStatus(r: Runtime): ClassStatus[] {
    if (r.kind === null || r.kind === 'cake') return [];
    return this.devices(r).flatMap(([direction, , rate]) => classPlan(rate, r.kind!, r.s.classes).map((p) => {
      const sample = r.samples.get(`${direction} ${p.classid}`);
      const cls = r.s.classes.find((c) => c.name === p.name);
      return {
        direction, name: p.name, rate: p.rate, ceil: p.ceil,
        sentBytes: sample?.sent.bytes ?? 0, sentPackets: sample?.sent.packets ?? 0, dropped: sample?.sent.drops ?? 0,
        overlimits: sample?.sent.overlimits ?? 0, backlog: sample?.backlog ?? 0,
        delayMs: { p50: percentile(sample?.delays ?? [], 0.5), p99: percentile(sample?.delays ?? [], 0.99) },
        ...(cls && cls.domains.length > 0 ? { addresses: this.learner?.addresses(r.s.uplink, cls.name) ?? [] } : {}),
      };
    }));
  }

  /** The last sample of every class, for metrics (no tc call). */
  classSamples(): Array<{ uplink: string; status: ClassStatus[] }> {
    return this.rt.map((r) => ({ uplink: r.s.uplink, status: this.classStatus(r) }));
  }

  /** Shaped rates now, for metrics (no tc call). */
  rates(): Array<{ uplink: string; up: number | null; down: number | null }> {
    return this.rt.filter((r) => r.kind !== null).map((r) => ({
      uplink: r.s.uplink,
      up: r.s.up === undefined ? null : r.up?.rate ?? r.s.up,
      down: r.s.down === undefined ? null : r.down?.rate ?? r.s.down,
    }));
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.sampler !== null) clearInterval(this.sampler);
    this.learner?.close();
    for (const r of this.rt) {
      if (r.kind === null) continue;
      for (const c of removeCommands(r.s)) await runCommand(this.host, c).catch(() => undefined);
      for (const [dev, features] of r.offloaded) await restoreOffloads(this.host, dev, features);
      r.offloaded.clear();
      this.log.info({ uplink: r.s.uplink, interface: r.s.interface }, 'smart queueing removed');
    }
  }
}
