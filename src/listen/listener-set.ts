/**
 * The set of sockets the config asks for. `listen` entries by `address` give one listener per
 * protocol; entries by `interface` give one per address the interface has, followed by netlink
 * events (`ip -o monitor address`, backed by a 2 s poll) so addresses that come and go open and
 * close their listeners within milliseconds: a VRRP address keepalived adds is answered at once.
 * IPv6 link-local addresses are skipped: binding them needs a scope, and LAN clients have ULA
 * or global addresses to reach us on.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import type { ListenConfig, Protocol } from '../config/types.js';
import type { Listener, ListenerDeps, UdpIoStatus } from './query-handler.js';
import { StreamListener } from './stream-listener.js';
import { UdpListener } from './udp-listener.js';
import { UdpBatchListener } from './udp-batch-listener.js';
import { nativeUdp } from '../host/native-udp.js';
import { DohListener } from './doh-listener.js';
import { isLinkLocalV6 } from '../prefix.js';
import { ipMonitor, type IpMonitor } from '../host/ip-monitor.js';

export interface ListenSpec {
  id: string;
  protocol: Protocol;
  address: string;
  port: number;
  entry: ListenConfig;
}

export type ListenerFactory = (spec: ListenSpec, deps: ListenerDeps) => Listener | null;

export const basicFactory: ListenerFactory = (spec, deps) => {
  switch (spec.protocol) {
    case 'udp': {
      const { addon } = nativeUdp();
      return addon ? new UdpBatchListener(spec.address, spec.port, deps, addon) : new UdpListener(spec.address, spec.port, deps);
    }
    case 'tcp': return new StreamListener('tcp', spec.address, spec.port, deps);
    case 'dot': return new StreamListener('dot', spec.address, spec.port, deps);
    case 'doh': return new DohListener(spec.address, spec.port, spec.entry.dohPath, deps);
  }
};

export function interfaceAddresses(name: string): string[] {
  const entries = os.networkInterfaces()[name] ?? [];
  return entries.map((e) => e.address).filter((a) => !isLinkLocalV6(a));
}

export function expandListen(listen: ListenConfig[]): ListenSpec[] {
  const specs: ListenSpec[] = [];
  for (const entry of listen) {
    const addresses = entry.address !== undefined ? [entry.address] : interfaceAddresses(entry.interface!);
    for (const address of addresses) {
      for (const protocol of entry.protocols) {
        const port = protocol === 'dot' ? entry.dotPort : protocol === 'doh' ? entry.dohPort : entry.port;
        const id = `${protocol}|${address}|${port}`;
        if (!specs.some((s) => s.id === id)) specs.push({ id, protocol, address, port, entry });
      }
    }
  }
  return specs;
}

export class ListenerSet {
  private readonly active = new Map<string, { listener: Listener; key: string }>();
  private watch: NodeJS.Timeout | null = null;
  private monitor: IpMonitor | null = null;
  private listen: ListenConfig[] = [];
  private applying: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: ListenerDeps,
    private readonly log: Logger,
    private readonly factory: ListenerFactory = basicFactory,
  ) {}

  /**
   * Open what is missing and close what is no longer wanted. With `strict` (start-up), a socket
   * that cannot be opened is an error; later (reload, address changes) it is logged and skipped.
   */
  apply(listen: ListenConfig[], strict: boolean): Promise<void> {
    this.listen = listen;
    this.followAddresses();
    this.applying = this.applying.then(() => this.reconcile(strict));
    return this.applying;
  }

  private async reconcile(strict: boolean): Promise<void> {
    const wanted = expandListen(this.listen);
    const wantedKeys = new Map(wanted.map((s) => [s.id, JSON.stringify(s.entry)]));
    for (const [id, a] of this.active) {
      // A listener whose entry changed (e.g. doh-path) is reopened.
      if (wantedKeys.get(id) !== a.key) {
        this.active.delete(id);
        await a.listener.close();
        this.log.info({ listener: id }, 'listener closed');
      }
    }
    for (const spec of wanted) {
      if (this.active.has(spec.id)) continue;
      const listener = this.factory(spec, this.deps);
      if (listener === null) {
        this.log.warn({ listener: spec.id }, 'protocol not available in this build; skipped');
        continue;
      }
      try {
        await listener.start();
        this.active.set(spec.id, { listener, key: JSON.stringify(spec.entry) });
        if (!strict) this.log.info({ listener: spec.id }, 'listener opened');
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (strict) throw Object.assign(new Error(`cannot listen on ${spec.protocol} ${spec.address}:${spec.port}: ${e.message}`, { cause: e }), { code: 'LISTEN_FAILED' });
        this.log.error({ listener: spec.id, err: e.message }, 'cannot open listener');
      }
    }
  }

  /** Follow interface addresses: at each netlink address event, and every `intervalMs`. */
  watchInterfaces(intervalMs = 2000): void {
    if (this.watch) return;
    let last = JSON.stringify(expandListen(this.listen).map((s) => s.id));
    let pending = false;
    const check = () => {
      pending = false;
      if (!this.listen.some((l) => l.interface !== undefined)) return;
      const now = JSON.stringify(expandListen(this.listen).map((s) => s.id));
      if (now === last) return;
      last = now;
      void this.apply(this.listen, false);
    };
    this.watch = setInterval(check, intervalMs);
    this.watch.unref();
    // A burst of events (an address and its routes) is one check.
    this.onAddressEvent = () => {
      if (!pending) { pending = true; setImmediate(check); }
    };
    this.followAddresses();
  }

  private onAddressEvent: (() => void) | null = null;

  /** The netlink monitor runs only while some entry names an interface (a reload may add or drop them). */
  private followAddresses(): void {
    const wanted = this.onAddressEvent !== null && this.listen.some((l) => l.interface !== undefined);
    if (wanted && this.monitor === null) this.monitor = ipMonitor('address', this.onAddressEvent!);
    else if (!wanted && this.monitor !== null) {
      this.monitor.stop();
      this.monitor = null;
    }
  }

  ids(): string[] {
    return [...this.active.keys()];
  }

  /** Which I/O path each UDP listener uses (for /stats, show stats and /metrics). */
  udpIo(): UdpIoStatus[] {
    return [...this.active.values()].filter((a) => a.listener.io !== undefined)
      .map(({ listener: l }) => ({ listener: l.id, io: l.io!, ...(l.counts?.() ?? {}) }));
  }

  async close(): Promise<void> {
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
    this.onAddressEvent = null;
    this.monitor?.stop();
    this.monitor = null;
    await this.applying;
    await Promise.all([...this.active.values()].map((a) => a.listener.close()));
    this.active.clear();
  }
}
