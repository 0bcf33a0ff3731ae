/**
 * Smart queueing while edgedns serves: finds what the kernel offers once, puts each configured
 * uplink's shaper in place (egress, and downloads through an ifb), follows uplink RTT samples
 * with autorate where configured, reports status from `tc -s -j`, and removes its qdiscs on stop.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { UplinkMonitor } from '../uplinks/uplink-monitor.js';
import { AutorateController } from './autorate.js';
import { chooseKind, probeCapabilities, type Capabilities } from './capabilities.js';
import type { QdiscKind, QueueingSettings } from './queueing-model.js';
import { ingressCommands, LEAF_HANDLE, rateCommands, removeCommands, ROOT_HANDLE, shaperCommands } from './tc-render.js';
import { linkExists, qdiscs, runAll, runCommand, type TcQdisc } from './tc-runner.js';
import { showRate } from './rate.js';

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
}

function counter(dev: string, which: 'tx_bytes' | 'rx_bytes'): number {
  try {
    return Number(readFileSync(`/sys/class/net/${dev}/statistics/${which}`, 'utf8'));
  } catch {
    return 0;
  }
}

/** Our qdiscs on a device (root handle `ed:` and its leaf), or none when it cannot be read. */
async function ownQdiscs(dev: string): Promise<TcQdisc[]> {
  return (await qdiscs(dev).catch(() => [] as TcQdisc[])).filter((q) => q.handle === ROOT_HANDLE || q.handle === LEAF_HANDLE);
}

/** The queue is the htb leaf, or cake itself at the root; the htb root only shapes. */
const holdsPackets = (q: TcQdisc) => q.kind !== 'htb';

export class QueueingService {
  private caps: Capabilities | null = null;
  private readonly rt: Runtime[];
  private unsubscribe: (() => void) | null = null;

  constructor(settings: QueueingSettings[], private readonly monitor: () => UplinkMonitor | null, private readonly clock: Clock, private readonly log: Logger) {
    this.rt = settings.map((s) => ({ s, kind: null, reason: 'not applied yet', counters: null, lastChange: null, changing: false }));
  }

  async start(): Promise<void> {
    this.caps = await probeCapabilities();
    this.log.info({ cake: this.caps.cake, fq_codel: this.caps.fqCodel, error: this.caps.error }, 'smart queueing: kernel capabilities');
    for (const r of this.rt) await this.apply(r);
    this.follow(this.monitor());
  }

  /** A new uplink monitor after a reload: its RTT samples drive autorate from now on. */
  follow(m: UplinkMonitor | null): void {
    this.unsubscribe?.();
    this.unsubscribe = m?.onRtt((uplink, rttMs, at) => this.onRtt(uplink, rttMs, at)) ?? null;
  }

  private async apply(r: Runtime): Promise<void> {
    const { kind, reason } = chooseKind(r.s.algorithm, this.caps!);
    const a = r.s.autorate;
    if (a && r.s.up !== undefined) r.up = new AutorateController({ ...a, thresholdMs: a.thresholdMs });
    if (a && r.s.down !== undefined && r.s.up !== undefined) {
      const k = r.s.down / r.s.up; // downloads follow the same controller law within bounds scaled to their rate
      r.down = new AutorateController({ min: a.min * k, base: r.s.down, max: a.max * k, thresholdMs: a.thresholdMs });
    }
    try {
      if (r.s.up !== undefined) await runAll(shaperCommands(r.s.interface, r.up?.rate ?? r.s.up, kind, r.s, false));
      if (r.s.ingress && r.s.down !== undefined) {
        if (await linkExists(r.s.ifb)) await runCommand({ cmd: 'ip', args: ['link', 'del', r.s.ifb] });
        await runCommand({ cmd: 'tc', args: ['qdisc', 'del', 'dev', r.s.interface, 'handle', 'ffff:', 'ingress'] }).catch(() => undefined);
        await runAll(ingressCommands(r.s, r.down?.rate ?? r.s.down, kind));
      }
      r.kind = kind;
      r.reason = reason;
      this.log.info({ uplink: r.s.uplink, interface: r.s.interface, qdisc: kind, why: reason,
        up: r.s.up !== undefined ? showRate(r.up?.rate ?? r.s.up) : null, down: r.s.down !== undefined ? showRate(r.s.down) : null }, 'smart queueing applied');
    } catch (e) {
      r.kind = null;
      r.reason = `apply failed: ${(e as Error).message}`;
      this.log.error({ uplink: r.s.uplink, err: (e as Error).message }, 'smart queueing: apply failed; the interface keeps what it had');
    }
  }

  /** ms the packets now in our own queues (egress, and the ifb for downloads) will wait. */
  private async ownDelayMs(r: Runtime): Promise<number> {
    const backlog = async (dev: string) => (await ownQdiscs(dev)).filter(holdsPackets).reduce((n, q) => n + q.backlog, 0);
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
    const tx = counter(r.s.interface, 'tx_bytes');
    const rx = counter(r.s.interface, 'rx_bytes');
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
      ...(stepUp.changed ? rateCommands(r.s.interface, stepUp.rate, kind) : []),
      ...(stepDown?.changed ? rateCommands(r.s.ifb, stepDown.rate, kind) : []),
    ];
    r.lastChange = new Date(at).toISOString();
    await runAll(cmds).then(
      () => this.log.debug({ uplink, up: showRate(stepUp.rate), own: Math.round(ownDelayMs * 10) / 10, why: stepUp.reason }, 'autorate'),
      (e: Error) => this.log.warn({ uplink, err: e.message }, 'autorate: rate change failed'),
    );
  }

  async status(): Promise<QueueingStatus[]> {
    const out: QueueingStatus[] = [];
    for (const r of this.rt) {
      const mine = [...await ownQdiscs(r.s.interface), ...(r.s.ingress ? await ownQdiscs(r.s.ifb) : [])];
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
      });
    }
    return out;
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
    for (const r of this.rt) {
      if (r.kind === null) continue;
      for (const c of removeCommands(r.s)) await runCommand(c).catch(() => undefined);
      this.log.info({ uplink: r.s.uplink, interface: r.s.interface }, 'smart queueing removed');
    }
  }
}
