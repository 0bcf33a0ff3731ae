/**
 * Each room as a `Component`: what it is started from, what a reload changes, what stopping
 * leaves. The order they run in is `componentsFor` at the bottom: one visible list.
 */
import { AdminServer } from '../admin/admin-server.js';
import { NO_UPLINKS, type AdminSources, type UplinksStatus } from '../admin/sources.js';
import { QueueingService } from '../aqm/queueing-service.js';
import { QUEUEING } from '../aqm/queueing-key.js';
import { sectionOf } from '../config/section.js';
import type { Config } from '../config/types.js';
import { DdnsService } from '../ddns/ddns-service.js';
import { DDNS } from '../ddns/ddns-key.js';
import { isIPv6 } from 'node:net';
import type { LeaseFeed } from '../leases/lease-feed.js';
import { LeaseManager } from '../leases/lease-manager.js';
import { LEASES } from '../leases/leases-key.js';
import { ListenerSet, basicFactory } from '../listen/listener-set.js';
import { nativeUdp } from '../host/native-udp.js';
import { DohListener } from '../listen/doh-listener.js';
import { TlsMaterial } from '../listen/tls-material.js';
import { Resolver } from '../resolve/resolver.js';
import { PolicyEngine } from '../uplinks/policies/policy-engine.js';
import { FlowKeeper } from '../uplinks/flows/flow-keeper.js';
import { HaRole } from '../ha/ha-role.js';
import { HaFollower, type DynamicZonePort } from '../ha/ha-follower.js';
import { readFileSync } from 'node:fs';
import { HA } from '../ha/ha-key.js';
import type { Transition } from '../uplinks/health-machine.js';
import { UplinkMonitor } from '../uplinks/uplink-monitor.js';
import { UPLINKS } from '../uplinks/uplinks-key.js';
import { WIREGUARD } from '../wireguard/wireguard-key.js';
import { NO_WIREGUARD, WireguardService } from '../wireguard/wireguard-service.js';
import { addPeer, wgRemovePeer, type AddedPeer } from '../wireguard/wg-command.js';
import { qrDataUrl } from '../wireguard/qr.js';
import { WgError, type TunnelScope } from '../wireguard/wg-model.js';
import type { Component } from './component.js';
import type { AppContext } from './context.js';

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The certificate for DoT/DoH: re-read on every reload; one that does not load refuses the reload. */
class TlsComponent implements Component {
  readonly name = 'tls';
  constructor(private readonly ctx: AppContext) {}

  async start(c: Config): Promise<void> {
    if (!c.tls) return;
    this.ctx.tls = new TlsMaterial(c.tls.cert, c.tls.key, this.ctx.log);
    this.ctx.tls.watch();
  }

  async reconfigure(next: Config): Promise<void> {
    if (!next.tls) return;
    if (!this.ctx.tls) return this.start(next);
    if (!this.ctx.tls.reload(next.tls.cert, next.tls.key)) throw new Error('TLS certificate or key did not load');
  }

  async stop(): Promise<void> {
    this.ctx.tls?.close();
  }
}

/** The VRRP role from `edgedns ha set`: first, so every room that publishes starts knowing it. */
class HaComponent implements Component {
  readonly name = 'ha';
  follower: HaFollower | null = null;
  constructor(private readonly ctx: AppContext, private readonly dynamicZone: () => DynamicZonePort | null) {
    ctx.onPublishing((on) => this.follower?.setFollowing(!on));
  }

  async start(c: Config): Promise<void> {
    const want = sectionOf(c, HA);
    if (want === null) return;
    const role = new HaRole(want, this.ctx.clock, this.ctx.log);
    role.start();
    role.onChange(() => this.ctx.publishingChanged());
    this.ctx.ha = role;
    if (want.peer !== undefined) {
      const tokenFile = c.admin.tokenFile;
      const token = () => { try { return tokenFile ? readFileSync(tokenFile, 'utf8').trim() : undefined; } catch { return undefined; } };
      this.follower = new HaFollower(want.peer, want.peerIntervalMs, token, this.dynamicZone, this.ctx.clock, this.ctx.log);
      this.follower.setFollowing(!role.publishing);
    }
  }

  async reconfigure(next: Config, prev: Config): Promise<void> {
    if (same(sectionOf(next, HA), sectionOf(prev, HA))) return;
    await this.stop();
    this.ctx.ha = null;
    this.follower = null;
    await this.start(next);
    this.ctx.publishingChanged();
  }

  async stop(): Promise<void> {
    this.ctx.ha?.stop();
    this.follower?.stop();
  }

  /** GET /ha: the role, and what this gateway publishes because of it. */
  view(publishes: { routes: boolean; policies: boolean; nat: boolean; ddnsPush: boolean }) {
    const what = Object.entries({ 'policy routes': publishes.routes, 'nft policies': publishes.policies, nat: publishes.nat, 'ddns pushes': publishes.ddnsPush })
      .filter(([, configured]) => configured).map(([n]) => n);
    const on = this.ctx.publishing();
    const view = this.ctx.ha?.view();
    return {
      enabled: this.ctx.ha !== null,
      role: view?.role ?? null, since: view?.since ?? null, seenAt: view?.seenAt ?? null, changes: view?.changes ?? 0, stateFile: view?.stateFile ?? null,
      publishing: on, publishes: on ? what : [], withheld: on ? [] : what,
      follow: this.follower?.view() ?? null,
    };
  }
}

/**
 * The uplink monitor. A reload that changes `uplinks` or `multi-wan` makes a new one; the old
 * one is kept (a way back) until commit, and then stopped, leaving its routes to the new one.
 */
class UplinksComponent implements Component {
  readonly name = 'uplinks';
  private retired: { monitor: UplinkMonitor | null; keepRoutes: boolean } | null = null;
  /** transition listeners (the live feed), moved to whichever monitor is current */
  private readonly transitionListeners = new Set<(t: Transition) => void>();
  private followed: { monitor: UplinkMonitor | null; stop: () => void } = { monitor: null, stop: () => undefined };
  constructor(private readonly ctx: AppContext) {
    ctx.onPublishing((on) => ctx.uplinks?.setPublishing(on));
  }

  onTransition(cb: (t: Transition) => void): () => void {
    this.transitionListeners.add(cb);
    this.follow();
    return () => this.transitionListeners.delete(cb);
  }

  private follow(): void {
    const m = this.ctx.uplinks;
    if (m === this.followed.monitor) return;
    this.followed.stop();
    const stop = m?.onTransitionEvent((t) => { for (const cb of this.transitionListeners) cb(t); }) ?? (() => undefined);
    this.followed = { monitor: m, stop };
  }

  private make(c: Config): UplinkMonitor | null {
    const { uplinks, multiWan } = sectionOf(c, UPLINKS);
    if (uplinks.length === 0) return null;
    const m = new UplinkMonitor(uplinks, multiWan, this.ctx.clock, this.ctx.log);
    m.setPublishing(this.ctx.publishing());
    m.start();
    return m;
  }

  async start(c: Config): Promise<void> {
    this.ctx.uplinks = this.make(c);
    this.follow();
  }

  async reconfigure(next: Config, prev: Config): Promise<void> {
    if (same(sectionOf(next, UPLINKS), sectionOf(prev, UPLINKS))) return;
    if (this.retired !== null) { // going back: the monitor kept for it takes over again
      const made = this.ctx.uplinks;
      this.ctx.uplinks = this.retired.monitor;
      this.retired = null;
      this.follow();
      await made?.stop(false);
      return;
    }
    const { uplinks, multiWan } = sectionOf(next, UPLINKS);
    const keepRoutes = uplinks.length > 0 && multiWan.applyRoutes;
    this.retired = { monitor: this.ctx.uplinks, keepRoutes };
    this.ctx.uplinks = this.make(next);
    this.follow();
  }

  async commit(): Promise<void> {
    const r = this.retired;
    this.retired = null;
    await r?.monitor?.stop(!r.keepRoutes); // the new monitor reconciles what the old one installed
  }

  async stop(): Promise<void> {
    await this.ctx.uplinks?.stop(true);
  }

  status(): UplinksStatus {
    const m = this.ctx.uplinks;
    if (m === null) return NO_UPLINKS;
    return { mode: m.multiWan.mode, selection: m.current(), routing: m.routing, uplinks: m.details(), events: [...m.events].reverse() };
  }
}

class ResolverComponent implements Component {
  readonly name = 'resolver';
  constructor(private readonly ctx: AppContext) {}

  async start(c: Config): Promise<void> {
    this.ctx.resolver = new Resolver(c, this.ctx.clock, this.ctx.log, this.ctx.uplinks);
  }

  async reconfigure(next: Config): Promise<void> {
    this.ctx.resolver.apply(next, this.ctx.uplinks);
  }

  async stop(): Promise<void> {
    this.ctx.resolver.setAnswerObserver(null);
    this.ctx.resolver.close();
  }
}

/** Multi-WAN policies: nftables marks and the resolver's address learner, on the current monitor. */
class PoliciesComponent implements Component {
  readonly name = 'policies';
  engine: PolicyEngine | null = null;
  private on: UplinkMonitor | null = null;
  constructor(private readonly ctx: AppContext) {
    ctx.onPublishing((on) => this.engine?.setPublishing(on));
  }

  async start(): Promise<void> {
    const m = this.ctx.uplinks;
    this.on = m;
    if (m === null || m.multiWan.policies.length === 0) return;
    this.engine = new PolicyEngine(m, this.ctx.clock, this.ctx.log);
    this.engine.setPublishing(this.ctx.publishing());
    this.engine.start();
    this.ctx.observe(this.name, this.engine.learner);
  }

  async reconfigure(next: Config): Promise<void> {
    if (this.ctx.uplinks === this.on) return; // policies are part of multi-wan: same monitor, same policies
    this.ctx.observe(this.name, null);
    await this.engine?.stop(sectionOf(next, UPLINKS).multiWan.policies.length === 0);
    this.engine = null;
    await this.start();
  }

  async stop(): Promise<void> {
    await this.engine?.stop(true);
  }

  status() {
    return this.engine?.status() ?? Promise.resolve({ policies: [], error: null });
  }
}

/** NAT per uplink, sessions, and conntrack on failover, on the current monitor. */
class FlowsComponent implements Component {
  readonly name = 'flows';
  keeper: FlowKeeper | null = null;
  private on: UplinkMonitor | null = null;
  constructor(private readonly ctx: AppContext) {
    ctx.onPublishing((on) => this.keeper?.setPublishing(on));
  }

  async start(): Promise<void> {
    const m = this.ctx.uplinks;
    this.on = m;
    if (m === null) return;
    this.keeper = new FlowKeeper(m, this.ctx.clock, this.ctx.log, undefined, this.ctx.publishing());
    this.keeper.start();
  }

  async reconfigure(next: Config): Promise<void> {
    if (this.ctx.uplinks === this.on) return;
    // the new keeper re-renders NAT; only a config without it (or without uplinks) takes it out
    const { uplinks, multiWan } = sectionOf(next, UPLINKS);
    await this.keeper?.stop(uplinks.length === 0 || multiWan.nat === 'none');
    this.keeper = null;
    await this.start();
  }

  async stop(): Promise<void> {
    await this.keeper?.stop(true);
  }

  status() {
    return this.keeper?.status() ?? Promise.resolve(null);
  }
}

/** Smart queueing: restarted when its settings change, else it follows the current monitor's RTT. */
class QueueingComponent implements Component {
  readonly name = 'queueing';
  service: QueueingService | null = null;
  constructor(private readonly ctx: AppContext) {}

  async start(c: Config): Promise<void> {
    const want = sectionOf(c, QUEUEING);
    if (want.length === 0) return;
    this.service = new QueueingService(want, () => this.ctx.uplinks, this.ctx.clock, this.ctx.log);
    await this.service.start();
    this.ctx.observe(this.name, this.service.learner);
  }

  async reconfigure(next: Config, prev: Config): Promise<void> {
    if (this.service && same(sectionOf(next, QUEUEING), sectionOf(prev, QUEUEING))) {
      this.service.follow(this.ctx.uplinks);
      return;
    }
    await this.stop();
    this.service = null;
    this.ctx.observe(this.name, null);
    await this.start(next);
  }

  async stop(): Promise<void> {
    await this.service?.stop();
  }

  status() {
    return this.service?.status() ?? Promise.resolve([]);
  }
}


/** The Kea lease readers: restarted when `leases` or the zone domain changes. */
class LeasesComponent implements Component, LeaseFeed {
  readonly name = 'leases';
  manager: LeaseManager | null = null;
  private readonly listeners = new Set<() => void>();
  constructor(private readonly ctx: AppContext) {}

  async start(c: Config): Promise<void> {
    const want = sectionOf(c, LEASES);
    this.ctx.zone().setConflictRule(want?.conflict ?? 'newest');
    if (want === null) return;
    this.manager = new LeaseManager(want, this.ctx.zone(), this.ctx.clock, this.ctx.log, () => this.changed());
    this.manager.start();
  }

  // --- LeaseFeed: the same object across reloads, whichever manager is current ---------------
  ready(): boolean {
    return this.manager?.ready() ?? true;
  }

  claims() {
    return this.manager?.claims() ?? [];
  }

  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private changed(): void {
    for (const cb of this.listeners) cb();
  }

  async reconfigure(next: Config, prev: Config): Promise<void> {
    if (same(sectionOf(next, LEASES), sectionOf(prev, LEASES)) && next.zone.domain === prev.zone.domain) {
      this.manager?.republishAll(); // static records may have changed: re-decide conflicts
      return;
    }
    this.manager?.close(true);
    this.manager = null;
    await this.start(next);
    this.changed();
  }

  async stop(): Promise<void> {
    this.manager?.close(false);
  }

  status() {
    return { leases: this.manager?.list() ?? [], sources: this.manager?.stats() ?? [] };
  }
}

/** UPDATEs in and zone transfers out: the dynamic layer of the zone, replayed from its journal. */
class DdnsComponent implements Component {
  readonly name = 'ddns';
  service: DdnsService | null = null;
  constructor(private readonly ctx: AppContext, private readonly feed: LeaseFeed) {
    ctx.onPublishing((on) => this.service?.setPushing(on));
  }

  async start(c: Config): Promise<void> {
    const want = sectionOf(c, DDNS);
    if (want === null) return;
    const r = this.ctx.resolver;
    this.service = new DdnsService(want, {
      feed: this.feed,
      source: (address) => this.ctx.uplinks?.route(`ddns:${address}`, isIPv6(address) ? 6 : 4)?.address,
      zone: () => r.localZone, layers: r.layers, history: r.history, writer: this.ctx.zone(),
      keys: () => r.config.tsigKeys, clock: this.ctx.clock, log: this.ctx.log,
    });
    this.service.setPushing(this.ctx.publishing());
    this.service.start();
    r.setZoneService(this.service);
  }

  async reconfigure(next: Config, prev: Config): Promise<void> {
    const want = sectionOf(next, DDNS);
    if (want !== null && this.service !== null && sectionOf(prev, DDNS)?.journal === want.journal) {
      this.service.reconfigure(want);
      return;
    }
    await this.stop(want === null);
    this.service = null;
    await this.start(next);
  }

  async stop(clear = false): Promise<void> {
    this.ctx.resolver.setZoneService(null);
    this.service?.stop(clear);
  }
}

/** The tunnel; its failures never stop DNS. Before the listeners: its DNS listener needs its interface. */
class WireguardComponent implements Component {
  readonly name = 'wireguard';
  service: WireguardService | null = null;
  /** the running config: the dashboard's add/remove peer use it as `wg add-peer -c` does */
  private config: Config | null = null;
  constructor(private readonly ctx: AppContext) {}

  async start(c: Config): Promise<void> {
    this.config = c;
    const settings = sectionOf(c, WIREGUARD);
    if (settings === null) return;
    this.service = new WireguardService(settings, {
      zone: this.ctx.zone(), zoneTtl: c.zone.ttl, uplinks: () => this.ctx.uplinks, clock: this.ctx.clock, log: this.ctx.log,
    });
    await this.service.start();
  }

  async reconfigure(next: Config): Promise<void> {
    this.config = next;
    const settings = sectionOf(next, WIREGUARD);
    if (settings === null) {
      await this.stop();
      this.service = null;
    } else if (this.service) await this.service.update(settings);
    else await this.start(next);
  }

  async stop(): Promise<void> {
    await this.service?.stop();
  }

  status() {
    return this.service?.status() ?? Promise.resolve(NO_WIREGUARD);
  }

  /** The same code as `edgedns wg add-peer`; the service picks the state file up within a second. */
  async addPeer(name: string, scope: TunnelScope, selected: string[]): Promise<AddedPeer & { qr: string }> {
    if (this.config === null) throw new WgError('WG_NOT_CONFIGURED', 'not started');
    const notes: string[] = [];
    const added = addPeer(this.config, name, { scope, psk: false, selected }, { err: (t) => notes.push(t) });
    this.ctx.log.info({ peer: name, addresses: added.addresses }, 'wireguard peer added (admin API)');
    return { ...added, qr: await qrDataUrl(added.config) };
  }

  removePeer(name: string): void {
    if (this.config === null) throw new WgError('WG_NOT_CONFIGURED', 'not started');
    wgRemovePeer(this.config, name, { err: () => undefined });
    this.ctx.log.info({ peer: name }, 'wireguard peer removed (admin API)');
  }
}

class GateComponent implements Component {
  readonly name = 'acl';
  constructor(private readonly ctx: AppContext) {}
  async start(c: Config): Promise<void> { this.ctx.gate.reconfigure(c.acl); }
  async reconfigure(next: Config): Promise<void> { this.ctx.gate.reconfigure(next.acl); }
  async stop(): Promise<void> { /* rules only */ }
}

class ListenersComponent implements Component {
  readonly name = 'listeners';
  set: ListenerSet | null = null;
  private limits = { idleMs: 0, maxConnections: 0 };
  private errorsLogged = 0;
  constructor(private readonly ctx: AppContext) {}

  async start(c: Config): Promise<void> {
    this.limits = { idleMs: c.limits.tcpIdleMs, maxConnections: c.limits.tcpConnections };
    const udp = nativeUdp();
    if (udp.addon) this.ctx.log.info({ io: 'recvmmsg' }, 'UDP through the native addon: recvmmsg/sendmmsg batches, IP_PKTINFO');
    else if (udp.why.startsWith('EDGEDNS_UDP_IO')) this.ctx.log.info({ io: 'dgram', why: udp.why }, `UDP through node:dgram: ${udp.why}`);
    else this.ctx.log.warn({ io: 'dgram', why: udp.why }, `UDP through node:dgram: ${udp.why}`);
    const wildcard = c.listen.filter((l) => (l.address === '0.0.0.0' || l.address === '::') && l.protocols.includes('udp'));
    if (!udp.addon && wildcard.length > 0) {
      this.ctx.log.warn({ listen: wildcard.map((l) => l.address) }, 'a UDP wildcard listener without the native addon answers from the route\'s source address, not the one asked: list the addresses, or use interface:');
    }
    this.set = new ListenerSet({
      handler: this.ctx.resolver,
      gate: this.ctx.gate,
      onError: (err, where) => {
        // Bounded: a bug hit by every packet must not flood the log.
        if (this.errorsLogged++ < 100) this.ctx.log.error({ err, listener: where }, 'query handling failed');
      },
      limits: () => this.limits,
      tls: () => this.ctx.tls,
    }, this.ctx.log, this.ctx.factory ?? basicFactory);
    await this.set.apply(c.listen, true);
    this.set.watchInterfaces();
  }

  async reconfigure(next: Config): Promise<void> {
    this.limits = { idleMs: next.limits.tcpIdleMs, maxConnections: next.limits.tcpConnections };
    await this.set!.apply(next.listen, false);
  }

  async stop(): Promise<void> {
    await this.set?.close();
  }
}

/** The admin API; its settings apply at the next start. */
class AdminComponent implements Component {
  readonly name = 'admin';
  private server: AdminServer | null = null;
  constructor(private readonly ctx: AppContext, private readonly sources: AdminSources) {}

  async start(c: Config): Promise<void> {
    if (!c.admin.http && !c.admin.socket) return;
    this.server = new AdminServer(c.admin, this.sources, this.ctx.log);
    await this.server.start();
  }

  async reconfigure(next: Config, prev: Config): Promise<void> {
    if (!same(next.admin, prev.admin)) this.ctx.log.warn('admin settings changed: they apply at the next start');
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }
}

export interface Rooms {
  components: Component[];
  listeners: ListenersComponent;
  leases: LeasesComponent;
  wireguard: WireguardComponent;
}

/**
 * The components in the order they start (and reconfigure); they stop in reverse. The listeners
 * open last, when everything they hand queries to is ready; the admin API last of all.
 */
export function componentsFor(ctx: AppContext, reload: () => Promise<{ ok: true } | { ok: false; error: Error }>): Rooms {
  const uplinks = new UplinksComponent(ctx);
  const policies = new PoliciesComponent(ctx);
  const flows = new FlowsComponent(ctx);
  const queueing = new QueueingComponent(ctx);
  const leases = new LeasesComponent(ctx);
  const wireguard = new WireguardComponent(ctx);
  const ddns = new DdnsComponent(ctx, leases);
  const ha = new HaComponent(ctx, () => ddns.service);
  const listeners = new ListenersComponent(ctx);
  const sources: AdminSources = {
    resolver: () => ctx.resolver,
    acl: () => ctx.gate.snapshot(),
    udpIo: () => listeners.set?.udpIo() ?? [],
    dohRefused: () => DohListener.h2Counters,
    leases: () => leases.status().leases, leaseStats: () => leases.status().sources,
    uplinks: () => uplinks.status(),
    onUplinkTransition: (cb) => uplinks.onTransition(cb),
    queueing: () => queueing.status(),
    queueingRates: () => queueing.service?.rates() ?? [],
    queueingClasses: () => queueing.service?.classSamples() ?? [],
    wireguard: () => wireguard.status(),
    wireguardPeers: () => wireguard.service?.cachedPeers() ?? [],
    addPeer: (name, scope) => wireguard.addPeer(name, scope, uplinks.status().selection?.active ?? []),
    removePeer: (name) => wireguard.removePeer(name),
    policies: () => policies.status(),
    policySnapshot: () => policies.engine?.snapshot() ?? [],
    ddns: () => ddns.service?.status() ?? null,
    ddnsDynamic: () => ddns.service?.dynamic() ?? null,
    uplinkFlows: () => flows.status(),
    flowSnapshot: () => flows.keeper?.snapshot() ?? [],
    ha: () => {
      const m = ctx.uplinks;
      return ha.view({
        routes: m?.routing.enabled ?? false, policies: (m?.multiWan.policies.length ?? 0) > 0 && (m?.routing.enabled ?? false),
        nat: m?.multiWan.nat === 'masquerade' && (m?.routing.enabled ?? false), ddnsPush: (ddns.service?.status().push.length ?? 0) > 0,
      });
    },
    reload,
  };
  const components: Component[] = [
    new TlsComponent(ctx),
    ha,
    uplinks,
    new ResolverComponent(ctx),
    policies,
    flows,
    queueing,
    leases,
    wireguard,
    ddns,
    new GateComponent(ctx),
    listeners,
    new AdminComponent(ctx, sources),
  ];
  return { components, listeners, leases, wireguard };
}

