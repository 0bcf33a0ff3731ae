/**
 * edgedns serve: config → resolver → listeners. Reload re-reads the file and swaps in a valid one
 * without dropping the cache or queries in flight; an invalid one changes nothing.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import { loadConfig } from './config/load.js';
import type { Config } from './config/types.js';
import { Acl } from './listen/acl.js';
import { ListenerSet, basicFactory, type ListenerFactory } from './listen/listener-set.js';
import { Resolver } from './resolve/resolver.js';
import { TlsMaterial } from './listen/tls-material.js';
import { AdminServer } from './admin/admin-server.js';
import { LeaseManager, type LeasesConfig } from './leases/lease-manager.js';
import { NO_UPLINKS } from './admin/sources.js';
import { UplinkMonitor } from './uplinks/uplink-monitor.js';
import { multiWanFromConfig, uplinksFromConfig } from './uplinks/uplink-model.js';
import { NO_WIREGUARD, WireguardService } from './wireguard/wireguard-service.js';
import { PolicyEngine } from './uplinks/policies/policy-engine.js';
import { QueueingService } from './aqm/queueing-service.js';
import { queueingFromConfig } from './aqm/queueing-model.js';
import { combineObservers } from './resolve/answer-observer.js';
import { wgFromConfig } from './wireguard/wg-model.js';

export interface ServerOptions {
  configPath?: string;
  log: Logger;
  clock?: Clock;
  factory?: ListenerFactory;
}

export class EdgeServer {
  private acl: Acl;
  private tls: TlsMaterial | undefined;
  private readonly listeners: ListenerSet;
  private admin: AdminServer | null = null;
  private leases: LeaseManager | null = null;
  private wireguard: WireguardService | null = null;
  private policies: PolicyEngine | null = null;
  private queueing: QueueingService | null = null;
  private errorsLogged = 0;

  private constructor(
    private config: Config,
    readonly resolver: Resolver,
    private readonly opts: ServerOptions,
    private uplinks: UplinkMonitor | null,
  ) {
    this.acl = new Acl(config.acl);
    if (config.tls) {
      this.tls = new TlsMaterial(config.tls.cert, config.tls.key, opts.log);
      this.tls.watch();
    }
    this.listeners = new ListenerSet({
      handler: resolver,
      acl: () => this.acl,
      onError: (err, where) => this.onListenerError(err, where),
      limits: () => ({ idleMs: this.config.limits.tcpIdleMs, maxConnections: this.config.limits.tcpConnections }),
      tls: () => this.tls,
    }, opts.log, opts.factory ?? basicFactory);
  }

  static async start(opts: ServerOptions): Promise<EdgeServer> {
    const config = await loadConfig(opts.configPath);
    const uplinks = EdgeServer.makeUplinks(config, opts);
    const server = new EdgeServer(config, new Resolver(config, opts.clock ?? systemClock, opts.log, uplinks), opts, uplinks);
    try {
      server.startPolicies();
      await server.syncQueueing(config);
      server.startLeases(config);
      await server.syncWireguard(config); // before listeners: the tunnel's DNS listener needs its interface
      await server.listeners.apply(config.listen, true);
      if (config.admin.http || config.admin.socket) {
        server.admin = new AdminServer(config.admin, {
          resolver: () => server.resolver,
          leases: () => server.leases?.list() ?? [], leaseStats: () => server.leases?.stats() ?? [],
          uplinks: () => server.uplinkStatus(),
          queueing: () => server.queueing?.status() ?? Promise.resolve([]),
          queueingRates: () => server.queueing?.rates() ?? [],
          queueingClasses: () => server.queueing?.classSamples() ?? [],
          wireguard: () => server.wireguard?.status() ?? Promise.resolve(NO_WIREGUARD),
          wireguardPeers: () => server.wireguard?.cachedPeers() ?? [],
          policies: () => server.policies?.status() ?? Promise.resolve({ policies: [], error: null }),
          policySnapshot: () => server.policies?.snapshot() ?? [],
          reload: () => server.reload(),
        }, opts.log);
        await server.admin.start();
      }
    } catch (e) {
      await server.stop();
      throw e;
    }
    server.listeners.watchInterfaces();
    server.logEffective();
    return server;
  }

  /** The uplink monitor a config asks for, started; null without uplinks. */
  private static makeUplinks(c: Config, opts: ServerOptions): UplinkMonitor | null {
    if (c.raw.uplinks.length === 0) return null;
    const m = new UplinkMonitor(uplinksFromConfig(c.raw), multiWanFromConfig(c.raw), opts.clock ?? systemClock, opts.log);
    m.start();
    return m;
  }

  private uplinkStatus() {
    const m = this.uplinks;
    if (m === null) return NO_UPLINKS;
    return { mode: m.multiWan.mode, selection: m.current(), routing: m.routing, uplinks: m.details(), events: [...m.events].reverse() };
  }

  /** Start, restart (settings changed) or stop smart queueing; otherwise follow the current monitor's RTT. */
  private async syncQueueing(c: Config, previous?: Config): Promise<void> {
    const want = queueingFromConfig(c.raw);
    if (previous && this.queueing && JSON.stringify(want) === JSON.stringify(queueingFromConfig(previous.raw))) {
      this.queueing.follow(this.uplinks);
      return;
    }
    await this.queueing?.stop();
    this.queueing = null;
    this.observeAnswers();
    if (want.length === 0) return;
    this.queueing = new QueueingService(want, () => this.uplinks, this.opts.clock ?? systemClock, this.opts.log);
    await this.queueing.start();
    this.observeAnswers();
  }

  /** Domain policies and queueing classes both learn addresses from answers. */
  private observeAnswers(): void {
    this.resolver.setAnswerObserver(combineObservers([this.policies?.learner, this.queueing?.learner]));
  }

  /** Multi-WAN policies on the current monitor: nftables marks and the resolver's address learner. */
  private startPolicies(): void {
    const m = this.uplinks;
    if (m === null || m.multiWan.policies.length === 0) return;
    this.policies = new PolicyEngine(m, this.opts.clock ?? systemClock, this.opts.log);
    this.policies.start();
    this.observeAnswers();
  }

  /** A reload that changes `uplinks` or `multi-wan` starts their monitor (and policies) afresh. */
  private async reloadUplinks(next: Config, previous: Config): Promise<void> {
    const key = (c: Config) => JSON.stringify([c.raw.uplinks, c.raw['multi-wan']]);
    if (key(next) === key(previous)) return;
    const old = this.uplinks;
    const keepRoutes = next.raw.uplinks.length > 0 && next.raw['multi-wan']?.['apply-routes'] === true;
    this.resolver.setAnswerObserver(null);
    await this.policies?.stop((next.raw['multi-wan']?.policies.length ?? 0) === 0);
    this.policies = null;
    this.observeAnswers();
    await old?.stop(!keepRoutes); // the new monitor reconciles what the old one installed
    this.uplinks = EdgeServer.makeUplinks(next, this.opts);
  }

  /** Start, update or stop the WireGuard service to match the config. Its failures never stop DNS. */
  private async syncWireguard(c: Config): Promise<void> {
    const settings = wgFromConfig(c);
    if (settings === null) {
      await this.wireguard?.stop();
      this.wireguard = null;
      return;
    }
    if (this.wireguard) return this.wireguard.update(settings);
    this.wireguard = new WireguardService(settings, {
      layers: this.resolver.layers, zoneTtl: c.zone.ttl, uplinks: () => this.uplinks, clock: this.opts.clock ?? systemClock, log: this.opts.log,
    });
    await this.wireguard.start();
  }

  private leasesConfig(c: Config): LeasesConfig | null {
    const l = c.raw.leases;
    if (!l || (!l.kea4 && !l.kea6)) return null;
    return { kea4: l.kea4, kea6: l.kea6, ttl: Math.round(l.ttl / 1000), conflict: l.conflict };
  }

  /** Start (or, when the leases section or the zone domain changed, restart) the lease readers. */
  private startLeases(c: Config, previous?: Config): void {
    const want = this.leasesConfig(c);
    const same = previous !== undefined && JSON.stringify(want) === JSON.stringify(this.leasesConfig(previous)) && c.zone.domain === previous.zone.domain;
    if (same) {
      this.leases?.republishAll(); // static records may have changed: re-decide conflicts
      return;
    }
    this.leases?.close(true);
    this.leases = null;
    if (want === null) return;
    this.leases = new LeaseManager(want, () => this.resolver.zone, this.resolver.layers, this.opts.clock ?? systemClock, this.opts.log);
    this.leases.start();
  }

  private logEffective(): void {
    const c = this.config;
    for (const w of c.warnings) this.opts.log.warn({ file: w.file, line: w.line, key: w.path }, `config: ${w.message}`);
    this.opts.log.info({
      config: c.source,
      listeners: this.listeners.ids(),
      zone: { domain: c.zone.domain, records: c.zone.records.length, reverse: c.zone.reverse },
      upstreams: c.upstreams.map((u) => u.url),
      uplinks: this.uplinks ? { mode: this.uplinks.multiWan.mode, names: this.uplinks.uplinks.map((u) => u.name), routing: this.uplinks.routing.enabled } : null,
      leases: this.leasesConfig(c),
      wireguard: this.wireguard ? wgFromConfig(c)?.interface : null,
      strategy: c.upstreamStrategy,
      forward: c.forward.map((f) => ({ domain: f.domain, upstreams: f.upstreams.map((u) => u.url) })),
      acl: c.acl.length > 0 ? c.acl : 'default (loopback, RFC 1918, RFC 4193, link-local)',
      admin: c.admin,
    }, 'edgedns started');
  }

  private onListenerError(err: Error, where: string): void {
    // Bounded: a bug hit by every packet must not flood the log.
    if (this.errorsLogged++ < 100) this.opts.log.error({ err, listener: where }, 'query handling failed');
  }

  /** Re-read the config file. An invalid file changes nothing and the error is returned. */
  async reload(): Promise<{ ok: true } | { ok: false; error: Error }> {
    let next: Config;
    try {
      next = await loadConfig(this.opts.configPath);
    } catch (error) {
      this.opts.log.error({ err: (error as Error).message }, 'reload failed; the running config stays');
      return { ok: false, error: error as Error };
    }
    if (next.tls) {
      // The certificate is re-read on every reload; one that does not load fails the reload.
      if (!this.tls) {
        try {
          this.tls = new TlsMaterial(next.tls.cert, next.tls.key, this.opts.log);
          this.tls.watch();
        } catch (error) {
          this.opts.log.error({ err: (error as Error).message }, 'reload failed; the running config stays');
          return { ok: false, error: error as Error };
        }
      } else if (!this.tls.reload(next.tls.cert, next.tls.key)) {
        return { ok: false, error: new Error('TLS certificate or key did not load') };
      }
    }
    if (JSON.stringify(next.admin) !== JSON.stringify(this.config.admin)) {
      this.opts.log.warn('admin settings changed: they apply at the next start');
    }
    const previous = this.config;
    this.config = next;
    this.acl = new Acl(next.acl);
    const uplinksBefore = this.uplinks;
    await this.reloadUplinks(next, previous);
    this.resolver.apply(next, this.uplinks);
    if (this.uplinks !== uplinksBefore) this.startPolicies();
    await this.syncQueueing(next, previous);
    this.startLeases(next, previous);
    await this.syncWireguard(next);
    await this.listeners.apply(next.listen, false);
    for (const w of next.warnings) this.opts.log.warn({ file: w.file, line: w.line, key: w.path }, `config: ${w.message}`);
    this.opts.log.info({ config: next.source, listeners: this.listeners.ids() }, 'config reloaded');
    return { ok: true };
  }

  listenerIds(): string[] {
    return this.listeners.ids();
  }

  /** Stop accepting, let in-flight queries finish (bounded), close upstreams. */
  async stop(): Promise<void> {
    this.leases?.close(false);
    await this.wireguard?.stop();
    await this.admin?.close();
    await this.listeners.close();
    this.resolver.close();
    this.resolver.setAnswerObserver(null);
    await this.policies?.stop(true);
    await this.queueing?.stop();
    await this.uplinks?.stop(true);
    this.tls?.close();
  }
}
