/**
 * Multi-WAN policies at work: keeps the nftables side (marks and drops for domain policies, hit
 * counters for all) in step with the policy decisions the uplink monitor also routes by, logs
 * and counts every move, and feeds the resolver's answers for watched names to the learner.
 * The ip rules themselves are part of the monitor's route plan.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { systemHost, type HostPort } from '../../host/host-port.js';
import type { UplinkMonitor } from '../uplink-monitor.js';
import { DomainLearner, type HeldAddress } from './domain-learner.js';
import { renderNft, renderPolicyRemoval } from './nft-render.js';
import { nftCounters, nftExisting, nftRemove, nftScript } from './nft-runner.js';
import type { PolicyDecision } from './policy-decision.js';
import { nftName, type Policy } from './policy-model.js';

export interface PolicyStatus {
  name: string;
  match: { domains: string[]; source: string[]; destination: string[] };
  uplinks: string[];
  fallback: string;
  /** what is in force: an uplink, the default selection, or drop */
  action: PolicyDecision['action'];
  uplink: string | null;
  reason: string;
  since: string | null;
  moves: number;
  /** new flows matched (nft counter); null when nft could not be read */
  hits: number | null;
  addresses: HeldAddress[];
}

/** What the engine follows of the monitor. */
export type PolicyUplinks = Pick<UplinkMonitor, 'multiWan' | 'uplinks' | 'routing' | 'onChange' | 'onTransitionEvent' | 'policyDecisions'>;

export class PolicyEngine {
  readonly learner: DomainLearner | null;
  private decisions: PolicyDecision[] = [];
  private readonly since = new Map<string, string>();
  private readonly moves = new Map<string, number>();
  private queue: Promise<void> = Promise.resolve();
  private unsubscribe: Array<() => void> = [];
  /** why nftables is not in use, or its last error */
  error: string | null = null;
  /** false on an HA backup: the marks and sets are the master's to publish */
  private publishing = true;

  constructor(
    private readonly monitor: PolicyUplinks, private readonly clock: Clock, private readonly log: Logger, private readonly host: HostPort = systemHost,
  ) {
    const policies = monitor.multiWan.policies;
    this.learner = policies.some((p) => p.domains.length > 0) ? new DomainLearner(policies, (s) => (this.publishing ? nftScript(s, undefined, host) : Promise.resolve()), clock, log) : null;
  }

  get policies(): Policy[] {
    return this.monitor.multiWan.policies;
  }

  start(): void {
    this.unsubscribe = [this.monitor.onChange(() => this.sync()), this.monitor.onTransitionEvent(() => this.sync())];
    this.sync(true);
  }

  private sync(force = false): void {
    const next = this.monitor.policyDecisions();
    const changed = next.filter((d, i) => this.decisions[i] === undefined || this.decisions[i].action !== d.action || this.decisions[i].uplink !== d.uplink);
    if (changed.length === 0 && !force) return;
    const first = this.decisions.length === 0;
    this.decisions = next;
    const at = new Date(this.clock.now()).toISOString();
    for (const d of changed) {
      this.since.set(d.policy, at);
      if (first) continue;
      this.moves.set(d.policy, (this.moves.get(d.policy) ?? 0) + 1);
      this.log.warn({ policy: d.policy, action: d.action, uplink: d.uplink, reason: d.reason }, 'multi-wan policy moved');
    }
    this.queue = this.queue.then(() => this.applyNft(next));
  }

  setPublishing(on: boolean): void {
    if (on === this.publishing) return;
    this.publishing = on;
    if (on) {
      this.sync(true);
      this.queue = this.queue.then(() => this.learner?.replay()); // the addresses learned while backup
    } else this.queue = this.queue.then(() => this.removeOwn());
  }

  private async removeOwn(): Promise<void> {
    if (!this.monitor.routing.enabled) return;
    await nftExisting(this.host).then((e) => nftRemove(renderPolicyRemoval(e), this.host)).then(
      () => this.log.info('multi-wan policies: their nftables chains, sets and counters removed'),
      (e: Error) => this.log.warn({ err: e.message }, 'multi-wan policies: could not remove their nftables chains'),
    );
  }

  private async applyNft(decisions: PolicyDecision[]): Promise<void> {
    if (!this.monitor.routing.enabled) {
      this.error = `routing is off: ${this.monitor.routing.reason}`;
      return;
    }
    if (!this.publishing) return;
    const names = this.monitor.uplinks.map((u) => u.name);
    try {
      const script = renderNft(this.policies, decisions, (n) => names.indexOf(n), await nftExisting(this.host));
      await nftScript(script, undefined, this.host);
      this.error = null;
    } catch (e) {
      this.error = (e as Error).message;
      this.log.error({ err: this.error }, 'multi-wan policies: nftables apply failed');
    }
  }

  /** Every policy, and why nftables is not in use (or its last error), if it is not. */
  async status(): Promise<{ policies: PolicyStatus[]; error: string | null }> {
    const counters = await nftCounters(this.host).catch(() => null);
    const policies = this.policies.map((p, i): PolicyStatus => {
      const d = this.decisions[i];
      return {
        name: p.name,
        match: { domains: p.domains, source: p.source, destination: p.destination },
        uplinks: p.uplinks,
        fallback: p.fallback,
        action: d?.action ?? 'default',
        uplink: d?.uplink ?? null,
        reason: d?.reason ?? 'not decided yet',
        since: this.since.get(p.name) ?? null,
        moves: this.moves.get(p.name) ?? 0,
        hits: counters?.get(nftName(p)) ?? null,
        addresses: this.learner?.addresses(p.name) ?? [],
      };
    });
    return { policies, error: this.error };
  }

  /** Moves per policy and addresses held, for metrics (no nft call). */
  snapshot(): Array<{ name: string; moves: number; addresses: number; uplink: string | null; action: string }> {
    return this.policies.map((p, i) => ({
      name: p.name, moves: this.moves.get(p.name) ?? 0, addresses: this.learner?.addresses(p.name).length ?? 0,
      uplink: this.decisions[i]?.uplink ?? null, action: this.decisions[i]?.action ?? 'default',
    }));
  }

  async stop(removeTable: boolean): Promise<void> {
    for (const u of this.unsubscribe) u();
    await this.queue;
    if (removeTable) await this.removeOwn();
  }
}
