/**
 * edgedns serve: the composition root. It owns the clock and the logger, builds the components
 * in one visible order (`componentsFor`), starts them, reloads them as one transaction and stops
 * them in reverse. An invalid file, or a component that refuses the new config, changes nothing.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';

import type { Config } from '../config/types.js';
import type { ListenerFactory } from '../listen/listener-set.js';
import type { Resolver } from '../resolve/resolver.js';
import { sectionOf } from '../config/section.js';
import { WIREGUARD } from '../wireguard/wireguard-key.js';
import { loadHere, type ConfigLoader } from './config-loader.js';
import { App, type ReloadResult } from './app.js';
import { componentsFor, type Rooms } from './components.js';
import { LEASES } from '../leases/leases-key.js';
import { AppContext } from './context.js';

export interface ServerOptions {
  /** the file a reload re-reads; undefined: the embedded default */
  configPath?: string;
  /** already loaded (by `serve`); else loaded from `configPath` */
  config?: Config;
  log: Logger;
  clock?: Clock;
  factory?: ListenerFactory;
  /** how `configPath` is read, at start and on reload (`serve`: in a worker thread) */
  load?: ConfigLoader;
}

export class EdgeServer {
  private constructor(private readonly app: App, private readonly ctx: AppContext, private readonly rooms: Rooms, private readonly opts: ServerOptions) {}

  static async start(opts: ServerOptions): Promise<EdgeServer> {
    const config = opts.config ?? await (opts.load ?? loadHere)(opts.configPath);
    const ctx = new AppContext(opts.clock ?? systemClock, opts.log, opts.factory);
    let server: EdgeServer | null = null;
    const rooms = componentsFor(ctx, () => server!.reload());
    const app = new App(rooms.components, config, opts.log);
    server = new EdgeServer(app, ctx, rooms, opts);
    await app.start();
    server.logEffective();
    return server;
  }

  get resolver(): Resolver {
    return this.ctx.resolver;
  }

  /** Re-read the config file: validate, then every component takes it, or none does. */
  async reload(): Promise<ReloadResult> {
    let next;
    try {
      next = await (this.opts.load ?? loadHere)(this.opts.configPath);
    } catch (error) {
      this.opts.log.error({ err: (error as Error).message }, 'reload failed; the running config stays');
      return { ok: false, error: error as Error };
    }
    const r = await this.app.reload(next);
    if (!r.ok) return r;
    for (const w of next.warnings) this.opts.log.warn({ file: w.file, line: w.line, key: w.path }, `config: ${w.message}`);
    this.opts.log.info({ config: next.source, listeners: this.rooms.listeners.set?.ids() ?? [] }, 'config reloaded');
    return r;
  }

  /** Stop accepting, let in-flight queries finish (bounded), close upstreams. */
  stop(): Promise<void> {
    return this.app.stop();
  }

  private logEffective(): void {
    const c = this.app.config;
    const m = this.ctx.uplinks;
    for (const w of c.warnings) this.opts.log.warn({ file: w.file, line: w.line, key: w.path }, `config: ${w.message}`);
    this.opts.log.info({
      config: c.source,
      listeners: this.rooms.listeners.set?.ids() ?? [],
      zone: { domain: c.zone.domain, records: c.zone.records.length, reverse: c.zone.reverse },
      upstreams: c.upstreams.map((u) => u.url),
      uplinks: m ? { mode: m.multiWan.mode, names: m.uplinks.map((u) => u.name), routing: m.routing.enabled } : null,
      leases: sectionOf(c, LEASES),
      wireguard: this.rooms.wireguard.service ? sectionOf(c, WIREGUARD)?.interface : null,
      strategy: c.upstreamStrategy,
      forward: c.forward.map((f) => ({ domain: f.domain, upstreams: f.upstreams.map((u) => u.url) })),
      acl: c.acl.length > 0 ? c.acl : 'default (loopback, RFC 1918, RFC 4193, link-local)',
      admin: c.admin,
    }, 'edgedns started');
  }
}
