/**
 * WireGuard while edgedns serves: applies the tunnel at start and whenever the config or the
 * state file changes, keeps peers' names in the zone, reports status from `wg show`, and when
 * the selected uplink changes, re-dials site-to-site peers and reaches out to connected remote
 * clients at once, instead of waiting for their next keepalive. Stopping leaves the tunnel up (remote users stay connected) unless
 * `down-on-stop` says otherwise.
 */
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ZoneWriter } from '../zone/zone-port.js';
import { systemHost, type HostPort } from '../host/host-port.js';
import type { UplinkEvents } from '../uplinks/uplink-source.js';
import { applyTunnel, type Implementation } from './apply-tunnel.js';
import { loadPeers } from './peer-set.js';
import { publishPeerNames, WG_ORIGIN } from './peer-names.js';
import { clientEndpoint, peerKeepalive, uplinkPreference } from './render.js';
import { loadSecrets } from './secrets.js';
import { parseDump, type PeerStatus } from './tunnel-status.js';
import { run } from './wg-runner.js';
import type { WgPeer, WgSettings } from './wg-model.js';

export interface WireguardStatus {
  configured: boolean;
  interface: string | null;
  publicKey: string | null;
  listenPort: number | null;
  implementation: Implementation | null;
  /** the wireguard-go this server started, if any */
  pid: number | null;
  /** ISO time of the last successful apply */
  applied: string | null;
  /** why the last apply or status read failed, or null */
  error: string | null;
  /** what client configs get now, and from which uplink */
  endpoint: { endpoint: string; uplink: string | null } | null;
  peers: PeerStatus[];
}

export const NO_WIREGUARD: WireguardStatus = {
  configured: false, interface: null, publicKey: null, listenPort: null, implementation: null, pid: null,
  applied: null, error: null, endpoint: null, peers: [],
};

/** Status reads are cached this long, so `show` and `/wireguard` pollers do not each spawn `wg`. */
const STATUS_TTL_MS = 2000;
const STATUS_REFRESH_MS = 10_000;

export class WireguardService {
  private peers: WgPeer[] = [];
  private implementation: Implementation | null = null;
  private pid: number | null = null;
  private applied: string | null = null;
  private error: string | null = null;
  private queue: Promise<void> = Promise.resolve();
  private last: { at: number; peers: PeerStatus[]; publicKey: string | null } = { at: 0, peers: [], publicKey: null };
  private lastActive = '';
  private unsubscribe: (() => void) | null = null;
  private stopped = false;
  private refresh: NodeJS.Timeout | null = null;
  private readonly onStateFile = (curr: Stats, prev: Stats) => {
    if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino) void this.apply('state file changed');
  };

  constructor(
    private settings: WgSettings,
    private readonly deps: { zone: ZoneWriter; zoneTtl: number; uplinks: () => UplinkEvents | null; clock: Clock; log: Logger; host?: HostPort },
  ) {}

  private get host(): HostPort {
    return this.deps.host ?? systemHost;
  }

  start(): Promise<void> {
    watchFile(this.settings.stateFile, { interval: 1000 }, this.onStateFile);
    // metrics read the last status; keep it fresh without a spawn per scrape
    this.refresh = setInterval(() => void this.status(), STATUS_REFRESH_MS);
    this.refresh.unref();
    this.follow(this.deps.uplinks());
    return this.apply('start');
  }

  /** A reload: new settings (or the same), and perhaps a new uplink monitor. */
  update(settings: WgSettings): Promise<void> {
    if (settings.stateFile !== this.settings.stateFile) {
      unwatchFile(this.settings.stateFile, this.onStateFile);
      watchFile(settings.stateFile, { interval: 1000 }, this.onStateFile);
    }
    this.settings = settings;
    this.follow(this.deps.uplinks());
    return this.apply('config reloaded');
  }

  private follow(m: UplinkEvents | null): void {
    this.unsubscribe?.();
    this.unsubscribe = m?.onChange(() => this.onUplinkChange(m)) ?? null;
    this.lastActive = m?.current()?.active.join(',') ?? '';
  }

  /** Serialized: a change that arrives during an apply waits for it, then applies again. */
  apply(why: string): Promise<void> {
    const next = this.queue.then(() => this.applyNow(why));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async applyNow(why: string): Promise<void> {
    if (this.stopped) return;
    const s = this.settings;
    try {
      const peers = loadPeers(s);
      const r = await applyTunnel(s, peers, loadSecrets(s, peers), this.deps.log, this.host);
      this.peers = peers;
      this.implementation = r.implementation;
      if (r.pid !== undefined) this.pid = r.pid;
      this.applied = new Date(this.deps.clock.now()).toISOString();
      this.error = null;
      this.last.at = 0;
      publishPeerNames(this.deps.zone, s.nameSuffix, peers, this.deps.zoneTtl);
      this.deps.log.info({ interface: s.interface, why, peers: peers.length, implementation: r.implementation, changes: r.changes }, 'wireguard applied');
    } catch (e) {
      // DNS goes on; the tunnel keeps what it had, and the error is shown in /wireguard.
      this.error = (e as Error).message;
      this.deps.log.error({ interface: s.interface, why, code: (e as { code?: string }).code, err: this.error }, 'wireguard apply failed; the tunnel keeps its previous config');
    }
  }

  private onUplinkChange(m: UplinkEvents): void {
    const active = m.current()?.active.join(',') ?? '';
    if (active === this.lastActive) return;
    this.lastActive = active;
    // Listeners run before the monitor installs the new routes, and an apply may be under way
    // (at start, the first selection comes while the tunnel is made): wait for both.
    setImmediate(() => void this.queue.then(() => m.routesSettled()).then(async () => {
      const dialed = this.peers.filter((p) => p.endpoint);
      if (dialed.length > 0 && !this.stopped) await this.redial(dialed, active);
      if (!this.stopped) await this.reachOut(active);
    }));
  }

  /**
   * A remote client (no endpoint of ours to dial) keeps sending to the address it last saw us
   * at — the failed uplink's — and would wait there until we send it something. So each client
   * with a live session is told where we are now: its endpoint set again (dropping the source
   * address WireGuard remembered for it) and keepalive on for one packet, which leaves by the new
   * uplink; WireGuard's roaming moves the client to that address at once.
   */
  private async reachOut(active: string): Promise<void> {
    const i = this.settings.interface;
    let peers: PeerStatus[];
    try {
      peers = parseDump(await run('wg', ['show', i, 'dump'], this.host), this.peers, this.deps.clock.now()).peers;
    } catch (e) {
      this.deps.log.warn({ err: (e as Error).message }, 'wireguard: could not read peers after an uplink change');
      return;
    }
    const dialed = new Set(this.peers.filter((p) => p.endpoint).map((p) => p.publicKey));
    for (const p of peers) {
      if (dialed.has(p.publicKey) || p.endpoint === null || p.state !== 'up') continue;
      const configured = this.peers.find((x) => x.publicKey === p.publicKey);
      const keep = (configured && peerKeepalive(configured)) ?? 0;
      try {
        await run('wg', ['set', i, 'peer', p.publicKey, 'persistent-keepalive', '0'], this.host);
        await run('wg', ['set', i, 'peer', p.publicKey, 'endpoint', p.endpoint, 'persistent-keepalive', '25'], this.host);
        await run('wg', ['set', i, 'peer', p.publicKey, 'persistent-keepalive', String(keep)], this.host);
        this.deps.log.info({ peer: p.name ?? p.publicKey, endpoint: p.endpoint, uplinks: active }, 'wireguard: uplink changed; remote client told');
      } catch (e) {
        this.deps.log.warn({ peer: p.name ?? p.publicKey, err: (e as Error).message }, 'wireguard: reaching a remote client after an uplink change failed');
      }
    }
    this.last.at = 0;
  }

  /**
   * Setting a peer's endpoint again drops the source address WireGuard remembered for it (the old
   * uplink's), and turning keepalive on from off sends one packet at once — so the peer sees us
   * from the new uplink now, not at the next keepalive.
   */
  private async redial(peers: WgPeer[], active: string): Promise<void> {
    const i = this.settings.interface;
    for (const p of peers) {
      try {
        await run('wg', ['set', i, 'peer', p.publicKey, 'persistent-keepalive', '0'], this.host);
        await run('wg', ['set', i, 'peer', p.publicKey, 'endpoint', p.endpoint!, 'persistent-keepalive', String(peerKeepalive(p) ?? 25)], this.host);
        this.deps.log.info({ peer: p.name, endpoint: p.endpoint, uplinks: active }, 'wireguard: uplink changed; peer re-dialed');
      } catch (e) {
        this.deps.log.warn({ peer: p.name, err: (e as Error).message }, 'wireguard: re-dial after uplink change failed');
      }
    }
  }

  private endpoint(): WireguardStatus['endpoint'] {
    const m = this.deps.uplinks();
    return clientEndpoint(this.settings, m === null ? [] : uplinkPreference(m.current()?.active ?? [], m.uplinks));
  }

  /** Peers as `wg show` sees them now (cached for a moment). */
  async status(): Promise<WireguardStatus> {
    const s = this.settings;
    const now = this.deps.clock.now();
    if (now - this.last.at > STATUS_TTL_MS) {
      try {
        const { iface, peers } = parseDump(await run('wg', ['show', s.interface, 'dump'], this.host), this.peers, now);
        this.last = { at: now, peers, publicKey: iface?.publicKey ?? null };
      } catch (e) {
        this.last = { at: now, peers: [], publicKey: null };
        if (this.error === null) this.error = (e as Error).message;
      }
    }
    return {
      configured: true, interface: s.interface, publicKey: this.last.publicKey, listenPort: s.listenPort,
      implementation: this.implementation, pid: this.pid, applied: this.applied, error: this.error,
      endpoint: this.endpoint(), peers: this.last.peers,
    };
  }

  /** The last status read, for metrics (which must not spawn per scrape). */
  cachedPeers(): PeerStatus[] {
    return this.last.peers;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.refresh) clearInterval(this.refresh);
    unwatchFile(this.settings.stateFile, this.onStateFile);
    this.unsubscribe?.();
    await this.queue;
    this.deps.zone.clear(WG_ORIGIN);
    if (this.settings.downOnStop) {
      await run('ip', ['link', 'del', this.settings.interface], this.host).catch((e: Error) => this.deps.log.warn({ err: e.message }, 'wireguard: could not remove the interface'));
    }
  }
}
