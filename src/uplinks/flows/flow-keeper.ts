/**
 * The flows the gateway forwards, per uplink: NAT (`multi-wan.nat: masquerade`), the kernel's
 * per-flow multipath hash under load-balance, the sessions each uplink carries (conntrack), and
 * on failover (`multi-wan.on-failover: flush`) the removal of the conntrack entries of flows
 * that were leaving through the uplink that went down, so their next packet is a new flow that
 * takes the backup (a TCP client sees a reset or retransmits into the new route; UDP simply
 * moves). Flows on healthy uplinks are never touched. Under HA only the master publishes any of
 * this (`setPublishing`).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { systemHost, type HostPort } from '../../host/host-port.js';
import type { Transition } from '../health-machine.js';
import { MARK_MASK, uplinkMark } from '../policies/policy-model.js';
import { nftExisting, nftRemove, nftScript } from '../policies/nft-runner.js';
import type { UplinkMonitor } from '../uplink-monitor.js';
import { deleteFlows, listFlows } from './conntrack.js';
import { DELETE_NAT, FLOW_CHAINS, renderNat } from './nat-render.js';

export type FlowUplinks = Pick<UplinkMonitor, 'multiWan' | 'uplinks' | 'routing' | 'onChange' | 'onTransitionEvent' | 'routesSettled' | 'addresses'>;

export interface FlushRecord {
  at: string;
  flows: number;
  reason: string;
}

export interface UplinkFlows {
  name: string;
  /** forwarded flows in the conntrack table leaving by this uplink (the gateway's own, probes among them, not counted); null when conntrack could not be read */
  sessions: number | null;
  /** flows removed because this uplink failed, since start */
  flushed: number;
  lastFlush: FlushRecord | null;
}

export interface FlowsStatus {
  nat: 'none' | 'masquerade';
  onFailover: 'flush' | 'keep';
  /** the kernel hashes multipath routes on ports too (load-balance spreads flows, not hosts) */
  l4Hash: boolean;
  publishing: boolean;
  /** why NAT, hashing or conntrack are not in use, or their last error */
  error: string | null;
  uplinks: UplinkFlows[];
}

const HASH_POLICY = ['/proc/sys/net/ipv4/fib_multipath_hash_policy', '/proc/sys/net/ipv6/fib_multipath_hash_policy'];
const SESSIONS_FRESH_MS = 2000;
/** The host's values before any keeper of this process changed them (a reload's keeper must not take ours for the host's). */
let hashOriginal: Array<string | null> | null = null;

export class FlowKeeper {
  private readonly flushed = new Map<string, number>();
  private readonly lastFlush = new Map<string, FlushRecord>();
  /** every address an uplink has had: a flow keeps the address it started with */
  private readonly seen = new Map<string, Set<string>>();
  private queue: Promise<void> = Promise.resolve();
  private unsubscribe: Array<() => void> = [];
  private publishing: boolean;
  private sessionsRead: { at: number; counts: Map<string, number> | null } = { at: -Infinity, counts: null };
  error: string | null = null;

  constructor(
    private readonly monitor: FlowUplinks, private readonly clock: Clock, private readonly log: Logger,
    private readonly host: HostPort = systemHost, publishing = true,
  ) {
    this.publishing = publishing;
  }

  private get active(): boolean {
    return this.monitor.routing.enabled;
  }

  start(): void {
    this.remember();
    this.unsubscribe = [
      this.monitor.onChange(() => this.remember()),
      this.monitor.onTransitionEvent((t) => this.onTransition(t)),
    ];
    if (this.active) this.enqueue(() => this.publish()); // without routing, status() says why
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(job).catch((e: Error) => {
      this.error = e.message;
      this.log.error({ err: e.message }, 'multi-wan flows: failed');
    });
  }

  private remember(): void {
    for (const u of this.monitor.uplinks) {
      const set = this.seen.get(u.name) ?? new Set<string>();
      for (const a of this.monitor.addresses(u.name)) set.add(a);
      this.seen.set(u.name, set);
    }
  }

  /** NAT and the multipath hash, as this gateway's role allows. */
  private async publish(): Promise<void> {
    const mw = this.monitor.multiWan;
    if (this.publishing && mw.nat === 'masquerade') {
      await nftScript(renderNat(this.monitor.uplinks.map((u) => u.interface)), undefined, this.host);
      this.log.info({ uplinks: this.monitor.uplinks.map((u) => u.name) }, 'multi-wan NAT: masquerade per uplink');
    } else await this.removeNat();
    if (this.publishing && mw.mode === 'load-balance') {
      if (hashOriginal === null) {
        hashOriginal = HASH_POLICY.map((p) => this.host.read(p)?.trim() ?? null);
        for (const p of HASH_POLICY.filter((_, i) => hashOriginal![i] !== null)) await this.host.write(p, '1\n');
      }
    } else await this.restoreHash(); // failover now (a reload), or a backup: the host's own value
    this.error = null;
  }

  private async removeNat(): Promise<void> {
    const existing = await nftExisting(this.host);
    const there = FLOW_CHAINS.filter((c) => existing.chains.includes(c));
    if (there.length === 0) return;
    await nftRemove(there.length === FLOW_CHAINS.length ? DELETE_NAT : there.map((c) => `delete chain inet edgedns ${c}\n`).join(''), this.host);
    this.log.info('multi-wan NAT removed');
  }

  private get l4Hash(): boolean {
    return hashOriginal !== null;
  }

  private async restoreHash(): Promise<void> {
    if (hashOriginal === null) return;
    const before = hashOriginal;
    hashOriginal = null;
    for (const [i, p] of HASH_POLICY.entries()) if (before?.[i] != null) await this.host.write(p, `${before[i]}\n`);
  }

  setPublishing(on: boolean): void {
    if (on === this.publishing) return;
    this.publishing = on;
    if (this.active) this.enqueue(() => this.publish());
  }

  private onTransition(t: Transition): void {
    if (t.to !== 'down' || this.monitor.multiWan.onFailover !== 'flush' || !this.active || !this.publishing) return;
    // The new routes first: a packet of a flushed flow must start its new entry on the backup.
    setImmediate(() => this.enqueue(async () => {
      await this.monitor.routesSettled();
      await this.flush(t.uplink, t.reason);
    }));
  }

  private async flush(uplink: string, reason: string): Promise<void> {
    const index = this.monitor.uplinks.findIndex((u) => u.name === uplink);
    let flows = 0;
    for (const a of this.seen.get(uplink) ?? []) flows += await deleteFlows(this.host, { replyDst: a });
    // marked flows: every flow under NAT (kept on its uplink), and those domain policies steered
    if (this.monitor.multiWan.nat === 'masquerade' || this.monitor.multiWan.policies.some((p) => p.domains.length > 0)) {
      flows += await deleteFlows(this.host, { mark: uplinkMark(index), mask: MARK_MASK });
    }
    this.flushed.set(uplink, (this.flushed.get(uplink) ?? 0) + flows);
    const rec = { at: new Date(this.clock.now()).toISOString(), flows, reason: `uplink down: ${reason}` };
    this.lastFlush.set(uplink, rec);
    this.sessionsRead.at = -Infinity;
    this.log.warn({ uplink, flows, reason }, 'multi-wan: flows of the failed uplink flushed from conntrack');
  }

  /** Waits for the flushes and applies queued so far (tests, and status after an event). */
  settled(): Promise<void> {
    return this.queue;
  }

  private async sessions(): Promise<Map<string, number> | null> {
    const now = this.clock.now();
    if (now - this.sessionsRead.at < SESSIONS_FRESH_MS) return this.sessionsRead.counts;
    const uplinks = this.monitor.uplinks;
    const families = [...new Set(uplinks.flatMap((u) => this.monitor.addresses(u.name).map((a) => (a.includes(':') ? 6 : 4) as 4 | 6)))];
    let counts: Map<string, number> | null = null;
    try {
      const flows = await listFlows(this.host, families.length ? families : [4]);
      counts = new Map(uplinks.map((u) => [u.name, 0]));
      const byAddress = new Map(uplinks.flatMap((u) => this.monitor.addresses(u.name).map((a) => [a, u.name] as const)));
      const byMark = new Map(uplinks.map((u, i) => [uplinkMark(i), u.name] as const));
      for (const f of flows) {
        if (byAddress.has(f.origSrc)) continue; // the gateway's own socket (a probe, an upstream query), not a forwarded flow
        const name = byAddress.get(f.replyDst) ?? byMark.get(f.mark & MARK_MASK);
        if (name !== undefined) counts.set(name, counts.get(name)! + 1);
      }
    } catch (e) {
      this.error = (e as Error).message;
    }
    this.sessionsRead = { at: now, counts };
    return counts;
  }

  async status(): Promise<FlowsStatus> {
    const mw = this.monitor.multiWan;
    const counts = this.active ? await this.sessions() : null;
    return {
      nat: mw.nat, onFailover: mw.onFailover, l4Hash: this.l4Hash, publishing: this.publishing,
      error: this.active ? this.error : `routing is off: ${this.monitor.routing.reason}`,
      uplinks: this.monitor.uplinks.map((u) => ({
        name: u.name, sessions: counts?.get(u.name) ?? null, flushed: this.flushed.get(u.name) ?? 0, lastFlush: this.lastFlush.get(u.name) ?? null,
      })),
    };
  }

  /** Flushed flows per uplink, for metrics (no conntrack call). */
  snapshot(): Array<{ name: string; flushed: number; sessions: number | null }> {
    return this.monitor.uplinks.map((u) => ({ name: u.name, flushed: this.flushed.get(u.name) ?? 0, sessions: this.sessionsRead.counts?.get(u.name) ?? null }));
  }

  /** `remove`: take NAT out and put the multipath hash back (a stop; a reload's new keeper reconciles). */
  async stop(remove: boolean): Promise<void> {
    for (const u of this.unsubscribe) u();
    await this.queue;
    if (remove && this.active) {
      await this.removeNat().catch((e: Error) => this.log.warn({ err: e.message }, 'multi-wan NAT: could not remove it'));
      await this.restoreHash().catch((e: Error) => this.log.warn({ err: e.message }, 'multi-wan: could not restore fib_multipath_hash_policy'));
    }
  }
}
