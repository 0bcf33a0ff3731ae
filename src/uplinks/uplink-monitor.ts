/**
 * The uplinks room at run time: probe rounds per uplink, carrier events, one health machine per
 * uplink, the selection, and (with `multi-wan.apply-routes`) policy routing kept in step. Health
 * is state here and nowhere else; changes go out as events and through `UplinkSource`.
 */
import { decidePolicies, type PolicyDecision } from './policies/policy-decision.js';
import { policyRules } from './policies/policy-rules.js';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { CarrierWatch } from './carrier-watch.js';
import { interfaceAddress } from './interface-address.js';
import { HealthMachine, type Transition, type UplinkState } from './health-machine.js';
import { PROBES, closeHttpProbes } from './probes/index.js';
import { ProbeHistory, type ProbeSummary } from './probe-history.js';
import { RouteApplier } from './route-applier.js';
import { roundResult } from './round-result.js';
import { routingUnavailable } from './ip-runner.js';
import { planRoutes, uplinkFamily, type RoutePlan } from './route-plan.js';
import { pickForFlow, sameSelection, select, type Selection } from './selection.js';
import { roundInterval, type MultiWan, type ProbeSpec, type Uplink } from './uplink-model.js';
import type { UplinkRoute, UplinkSource } from './uplink-source.js';
import { systemHost, type HostPort } from '../host/host-port.js';

interface ProbeRuntime {
  spec: ProbeSpec;
  history: ProbeHistory;
  lastStart: number;
  lastOk: boolean | null;
  lastError: string | null;
}

interface UplinkRuntime {
  cfg: Uplink;
  machine: HealthMachine;
  probes: ProbeRuntime[];
  sources: { 4?: string; 6?: string };
  running: boolean;
  timer: NodeJS.Timeout | null;
}

export interface UplinkProbeView extends ProbeSummary {
  type: string;
  target: string;
}

export interface UplinkDetail {
  name: string;
  interface: string;
  source: string | null;
  gateway: string | null;
  table: number;
  priority: number;
  weight: number;
  state: UplinkState;
  since: string;
  reason: string;
  carrier: boolean;
  stable: boolean;
  holdDownLeftMs: number;
  /** last successful probe RTT, the lowest across targets */
  rttMs: number | null;
  /** failed share of recent probes, across targets */
  loss: number | null;
  flaps: number;
  selected: boolean;
  probes: UplinkProbeView[];
}

export interface RoutingStatus {
  enabled: boolean;
  /** why routing is off, or the last apply error */
  reason: string | null;
  appliedAt: string | null;
}

const EVENTS_KEPT = 50;
const RECONCILE_MS = 30_000;

export class UplinkMonitor implements UplinkSource {
  generation = 0;
  private readonly rt: UplinkRuntime[];
  private readonly carrier: CarrierWatch;
  private selection: Selection | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly transitionListeners = new Set<(t: Transition) => void>();
  private readonly rttListeners = new Set<(uplink: string, rttMs: number, at: number) => void>();
  readonly events: Transition[] = [];
  private readonly applier: RouteApplier | null;
  readonly routing: RoutingStatus;
  private lastPlan = '';
  private routesApplying: Promise<unknown> = Promise.resolve();
  private reconcileTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** false on an HA backup: forwarded traffic is not steered (route-plan.ts) */
  private forwarding = true;

  constructor(
    readonly uplinks: Uplink[],
    readonly multiWan: MultiWan,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly host: HostPort = systemHost,
  ) {
    const now = clock.now();
    this.rt = uplinks.map((cfg) => ({
      cfg,
      machine: new HealthMachine(cfg.name, cfg, now),
      probes: cfg.probes.map((spec) => ({ spec, history: new ProbeHistory(), lastStart: -Infinity, lastOk: null, lastError: null })),
      sources: {},
      running: false,
      timer: null,
    }));
    for (const r of this.rt) this.refreshSources(r);
    this.carrier = new CarrierWatch(uplinks.map((u) => u.interface), (iface, up) => this.onCarrier(iface, up));
    const unavailable = multiWan.applyRoutes ? routingUnavailable(host) : null;
    this.applier = multiWan.applyRoutes && unavailable === null ? new RouteApplier(host) : null;
    this.routing = { enabled: this.applier !== null, reason: multiWan.applyRoutes ? unavailable : 'multi-wan.apply-routes is off', appliedAt: null };
    if (unavailable !== null) log.warn({ reason: unavailable }, 'policy routing off; probes and upstream source binding still work');
  }

  start(): void {
    const now = this.clock.now();
    for (const r of this.rt) {
      const t = r.machine.carrier(this.carrier.carrier(r.cfg.interface), r.cfg.interface, now);
      if (t) this.onTransition(t);
    }
    this.updateSelection('start');
    this.carrier.start();
    // The first round waits for the first routes: probes leave by their uplink's table, and
    // before it exists they fail with ENETUNREACH and every uplink would start out down.
    const first = this.routesSettled();
    for (const r of this.rt) {
      void first.then(() => (this.stopped ? undefined : this.round(r)));
      r.timer = setInterval(() => void this.round(r), roundInterval(r.cfg));
    }
    if (this.applier) {
      this.reconcileTimer = setInterval(() => this.applyRoutes(true), RECONCILE_MS);
      this.reconcileTimer.unref();
    }
  }

  // --- UplinkSource ---------------------------------------------------------------------------

  route(flow: string, family: 4 | 6): UplinkRoute | null {
    const active = this.selection?.active ?? [];
    if (active.length === 0) return null;
    const name = active.length === 1 ? active[0] : pickForFlow(flow, active.map((n) => ({ name: n, weight: this.get(n).cfg.weight })));
    if (name === undefined) return null;
    return { uplink: name, address: this.get(name).sources[family] };
  }

  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  onTransitionEvent(cb: (t: Transition) => void): () => void {
    this.transitionListeners.add(cb);
    return () => this.transitionListeners.delete(cb);
  }

  /** Every successful probe's RTT, for smart queueing's autorate (no probes of its own). */
  onRtt(cb: (uplink: string, rttMs: number, at: number) => void): () => void {
    this.rttListeners.add(cb);
    return () => this.rttListeners.delete(cb);
  }

  current(): Selection | null {
    return this.selection;
  }

  /**
   * Resolves when the routes for the current selection are in place (at once without policy
   * routing). Change listeners run before that; those who send right away (WireGuard re-dialing
   * a peer) wait for this first, or their packet leaves by the old route.
   */
  routesSettled(): Promise<void> {
    return this.routesApplying.then(() => undefined, () => undefined);
  }

  // --- rounds and events ----------------------------------------------------------------------

  private get(name: string): UplinkRuntime {
    return this.rt.find((r) => r.cfg.name === name)!;
  }

  private refreshSources(r: UplinkRuntime): boolean {
    const src = r.cfg.source;
    const next = {
      4: src !== undefined && !isIPv6(src) ? src : interfaceAddress(r.cfg.interface, 4),
      6: src !== undefined && isIPv6(src) ? src : interfaceAddress(r.cfg.interface, 6),
    };
    const changed = next[4] !== r.sources[4] || next[6] !== r.sources[6];
    r.sources = next;
    // route() answers with the new address from now on; readers that keep its answer per generation must see it too.
    if (changed) this.generation++;
    return changed;
  }

  private async round(r: UplinkRuntime): Promise<void> {
    if (r.running || this.stopped) return; // a round still waiting on a slow probe: skip this tick
    r.running = true;
    const sourcesChanged = this.refreshSources(r);
    const start = this.clock.now();
    const due = r.probes.filter((p) => start - p.lastStart >= p.spec.intervalMs * 0.9);
    await Promise.all(due.map(async (p) => {
      p.lastStart = start;
      const family = isIPv6(p.spec.target.replace(/^\[|\](:\d+)?$/g, '')) ? 6 : 4;
      const res = await PROBES[p.spec.type](p.spec, { source: r.sources[family], iface: r.cfg.interface, host: this.host });
      p.lastOk = res.ok;
      p.lastError = res.ok ? null : res.error;
      if (res.ok) {
        p.history.add(true, res.rttMs);
        for (const cb of this.rttListeners) cb(r.cfg.name, res.rttMs, this.clock.now());
      } else p.history.add(false, 0, res.error);
    }));
    r.running = false;
    if (this.stopped) return;
    const now = this.clock.now();
    const { ok, why } = roundResult(r.probes.map((p) => ({ ok: p.lastOk, error: p.lastError })),
      r.cfg.minTargetsUp, this.carrier.carrier(r.cfg.interface), r.cfg.interface);
    const t = r.machine.round(ok, why, now);
    if (t) this.onTransition(t);
    // Stability (min-up) changes with time alone, and a new WAN address changes the routes.
    this.updateSelection(t ? t.reason : 'probe round', sourcesChanged);
  }

  private onCarrier(iface: string, up: boolean): void {
    const now = this.clock.now();
    for (const r of this.rt.filter((x) => x.cfg.interface === iface)) {
      this.refreshSources(r);
      const t = r.machine.carrier(up, iface, now);
      if (t) this.onTransition(t);
      else this.log.info({ uplink: r.cfg.name, carrier: up }, up ? 'carrier back' : 'carrier lost');
    }
    this.updateSelection(`carrier ${up ? 'back' : 'lost'} on ${iface}`, true);
  }

  private onTransition(t: Transition): void {
    this.events.push(t);
    if (this.events.length > EVENTS_KEPT) this.events.shift();
    const line = { uplink: t.uplink, from: t.from, to: t.to, reason: t.reason };
    if (t.to === 'down') this.log.warn(line, 'uplink down');
    else if (t.to === 'up') this.log.info(line, 'uplink up');
    else this.log.info(line, 'uplink degraded');
    for (const cb of this.transitionListeners) cb(t);
  }

  private updateSelection(reason: string, linkEvent = false): void {
    const now = this.clock.now();
    const next = select(this.multiWan.mode, this.rt.map((r) => ({
      name: r.cfg.name, priority: r.cfg.priority, weight: r.cfg.weight, healthy: r.machine.isHealthy(), stable: r.machine.isStable(now),
    })), this.selection);
    const changed = !sameSelection(this.selection, next);
    if (changed) {
      const before = this.selection;
      this.selection = next;
      this.log.info({ mode: next.mode, active: next.active, healthy: next.healthy, previous: before?.active ?? null, reason },
        next.healthy ? 'uplink selection' : 'uplink selection: nothing healthy, keeping the last-known-good uplink');
    }
    if (changed || linkEvent) {
      this.generation++;
      for (const cb of this.listeners) cb();
    }
    if (this.applier) this.applyRoutes(linkEvent);
  }

  /** Each policy's uplink (or fallback) under the health seen now. */
  policyDecisions(): PolicyDecision[] {
    return decidePolicies(this.multiWan.policies, (name) => this.rt.find((r) => r.cfg.name === name)?.machine.isHealthy() ?? false);
  }

  /** The routes and rules this state asks for. */
  plan(): RoutePlan {
    const sources = new Map(this.rt.map((r) => [r.cfg.name, [r.sources[4], r.sources[6]].filter((s): s is string => s !== undefined)]));
    const policyRuleSpecs = policyRules(this.multiWan.policies, this.policyDecisions(), this.uplinks, this.multiWan.rulePriority, uplinkFamily, this.multiWan.nat === 'masquerade');
    return planRoutes({ uplinks: this.uplinks, multiWan: this.multiWan, sources, active: this.selection?.active ?? [], policyRules: policyRuleSpecs, forwarding: this.forwarding });
  }

  /** HA: only the master installs the selection's and the policies' rules. */
  setPublishing(on: boolean): void {
    if (on === this.forwarding) return;
    this.forwarding = on;
    if (this.selection !== null) this.applyRoutes(true); // before start: the first apply has it
  }

  private applyRoutes(force: boolean): void {
    if (!this.applier || this.stopped) return;
    const plan = this.plan();
    const key = JSON.stringify(plan);
    if (!force && key === this.lastPlan) return;
    this.lastPlan = key;
    this.routesApplying = this.applier.apply(plan).then((cmds) => {
      this.routing.appliedAt = new Date(this.clock.now()).toISOString();
      this.routing.reason = null;
      if (cmds.length > 0) this.log.info({ commands: cmds.length }, 'policy routing applied');
    }, (err: Error) => {
      this.routing.reason = err.message;
      this.lastPlan = ''; // try again on the next event
      this.log.error({ err: err.message }, 'policy routing: apply failed');
    });
  }

  /** An uplink's source addresses now (configured, or found on its interface). */
  addresses(name: string): string[] {
    const r = this.rt.find((x) => x.cfg.name === name);
    return r ? [r.sources[4], r.sources[6]].filter((a): a is string => a !== undefined) : [];
  }

  // --- views ----------------------------------------------------------------------------------

  details(): UplinkDetail[] {
    const now = this.clock.now();
    const active = new Set(this.selection?.active ?? []);
    return this.rt.map((r) => {
      const probes = r.probes.map((p) => ({ type: p.spec.type, target: p.spec.target, ...p.history.summary() }));
      const rtts = probes.map((p) => p.lastRttMs).filter((x): x is number => x !== null);
      const sampled = probes.filter((p) => p.loss !== null);
      return {
        name: r.cfg.name, interface: r.cfg.interface, source: r.sources[4] ?? r.sources[6] ?? null, gateway: r.cfg.gateway ?? null,
        table: r.cfg.table, priority: r.cfg.priority, weight: r.cfg.weight,
        state: r.machine.state, since: new Date(r.machine.since).toISOString(), reason: r.machine.reason,
        carrier: this.carrier.carrier(r.cfg.interface), stable: r.machine.isStable(now), holdDownLeftMs: r.machine.holdDownLeft(now),
        rttMs: rtts.length ? Math.min(...rtts) : null,
        loss: sampled.length ? sampled.reduce((a, p) => a + p.loss!, 0) / sampled.length : null,
        flaps: r.machine.flaps, selected: active.has(r.cfg.name), probes,
      };
    });
  }

  /** Stop probing. `removeRoutes`: take out every rule and route edgedns added. */
  async stop(removeRoutes: boolean): Promise<void> {
    this.stopped = true;
    for (const r of this.rt) if (r.timer) clearInterval(r.timer);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.carrier.stop();
    this.listeners.clear();
    await closeHttpProbes();
    if (removeRoutes && this.applier) {
      await this.applier.removeAll().then(
        () => this.log.info('policy routing removed'),
        (err: Error) => this.log.error({ err: err.message }, 'policy routing: remove failed'),
      );
    }
  }
}
