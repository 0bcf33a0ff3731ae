/**
 * What the components share, owned by the composition root: the clock and the logger, and the
 * state a component publishes for those after it (the uplink monitor, the resolver, the ACL
 * gate, the TLS material). Nothing outside app/ sees this object.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ListenerFactory } from '../listen/listener-set.js';
import { AclGate } from '../listen/acl-gate.js';
import type { TlsMaterial } from '../listen/tls-material.js';
import { combineObservers, type AnswerObserver } from '../dns/answer-observer.js';
import type { Resolver } from '../resolve/resolver.js';
import type { UplinkMonitor } from '../uplinks/uplink-monitor.js';
import type { HaRole } from '../ha/ha-role.js';
import { zonePort, type ZonePort } from '../zone/zone-port.js';

export class AppContext {
  uplinks: UplinkMonitor | null = null;
  /** Set by the resolver component's start; every later component may use it. */
  resolver!: Resolver;
  tls: TlsMaterial | undefined;
  readonly gate = new AclGate([]);
  /** the VRRP role, when `ha:` is configured */
  ha: HaRole | null = null;
  private readonly observers = new Map<string, AnswerObserver | null>();
  private readonly publishingListeners = new Set<(on: boolean) => void>();

  constructor(readonly clock: Clock, readonly log: Logger, readonly factory: ListenerFactory | undefined) {}

  /** Where leases and WireGuard publish their names (the layers outlive reloads of the zone). */
  zone(): ZonePort {
    return zonePort(this.resolver.layers, () => this.resolver.localZone);
  }

  /** Whether this gateway publishes what must have one owner: always, unless `ha:` says it is not the master. */
  publishing(): boolean {
    return this.ha === null || this.ha.publishing;
  }

  onPublishing(cb: (on: boolean) => void): void {
    this.publishingListeners.add(cb);
  }

  /** The HA component's call when the role (or `ha:` itself) changed. */
  publishingChanged(): void {
    const on = this.publishing();
    for (const cb of this.publishingListeners) cb(on);
  }

  /** Domain policies and queueing classes both learn addresses from answers: one observer of both. */
  observe(owner: string, o: AnswerObserver | null): void {
    this.observers.set(owner, o);
    this.resolver.setAnswerObserver(combineObservers([...this.observers.values()]));
  }
}
