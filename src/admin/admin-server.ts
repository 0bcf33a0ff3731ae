/**
 * The admin API: JSON over HTTP on `admin.http` (loopback by default) and on `admin.socket`
 * (a unix socket, mode 0600, its folder created), plus `/metrics` for Prometheus.
 * POSTs over TCP need `Authorization: Bearer <token>` when `admin.token-file` is set; the
 * socket's file mode is its access control. A non-loopback `admin.http` without a token is
 * refused at start.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import { isIP } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type client from 'prom-client';
import { EventStream } from './event-stream.js';
import { AdminAccess } from './admin-access.js';
import { DashboardAssets, loginPage, PAGE_HEADERS } from './dashboard-assets.js';
import { History } from './history.js';

import type { TransportCounts } from '../listen/acl-gate.js';
import type { AdminSources } from './sources.js';
import { EdgeError } from '../errors.js';

export interface AdminConfig {
  http?: string;
  socket?: string;
  tokenFile?: string;
  /** the web page at `/` (default true) */
  dashboard?: boolean;
}

export class AdminError extends EdgeError<'ADMIN_UNSAFE' | 'ADMIN_LISTEN_FAILED' | 'ADMIN_TOKEN'> {}

export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  if (!m) throw new AdminError('ADMIN_LISTEN_FAILED', `admin.http: expected ADDRESS:PORT, got ${text}`);
  return { host: m[1], port: Number(m[2]) };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** Queries per second over the last minute, from samples of the query total. */
class QpsMeter {
  private samples: Array<[number, number]> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly total: () => number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 5000);
    this.timer.unref();
  }

  private sample(): void {
    this.samples.push([Date.now(), this.total()]);
    if (this.samples.length > 13) this.samples.shift();
  }

  rate(): number {
    const [t0, n0] = this.samples[0];
    const now = Date.now();
    const dt = (now - t0) / 1000;
    return dt > 0 ? (this.total() - n0) / dt : 0;
  }

  close(): void {
    clearInterval(this.timer);
  }
}

type Json = object;

export class AdminServer {
  private servers: http.Server[] = [];
  private token: string | null = null;
  /** prom-client (~4 MB) is loaded on the first scrape, not with the server */
  private metrics: Promise<client.Registry> | null = null;
  private readonly qps: QpsMeter;
  readonly events: EventStream;
  private readonly history: History;
  private access = new AdminAccess(null, true);
  private assets: DashboardAssets | null = null;

  constructor(private readonly cfg: AdminConfig, private readonly src: AdminSources, private readonly log: Logger) {
    this.qps = new QpsMeter(() => src.resolver().stats.byTransportRcode.reduce((a, b) => a + b, 0));
    this.events = new EventStream({
      stats: () => {
        const c = src.resolver().cacheStats();
        return { ...this.stats(), cacheHitRatio: c.hits + c.misses > 0 ? c.hits / (c.hits + c.misses) : 0 };
      },
      queries: (emit) => {
        const r = src.resolver();
        r.queryTap = emit;
        return () => { if (r.queryTap === emit) r.queryTap = null; };
      },
      uplinks: (emit) => src.onUplinkTransition(emit),
    });
    this.history = new History(src, (sample) => this.events.publish('sample', sample));
  }

  async start(): Promise<void> {
    if (this.cfg.tokenFile) {
      try {
        this.token = readFileSync(this.cfg.tokenFile, 'utf8').trim();
      } catch (cause) {
        throw new AdminError('ADMIN_TOKEN', `admin.token-file: cannot read ${this.cfg.tokenFile}`, { cause });
      }
      if (!this.token) throw new AdminError('ADMIN_TOKEN', `admin.token-file: ${this.cfg.tokenFile} is empty`);
    }
    if (this.cfg.dashboard !== false) {
      this.assets = new DashboardAssets();
      if (this.assets.missing) this.log.warn(this.assets.missing);
    }
    if (this.cfg.http) {
      const { host, port } = parseHostPort(this.cfg.http);
      if (!isLoopback(host) && this.token === null) {
        throw new AdminError('ADMIN_UNSAFE', `admin.http: refusing to serve the admin API on ${host} (not loopback) without admin.token-file`);
      }
      this.access = new AdminAccess(this.token, isLoopback(host));
      await this.listen((req, res) => this.route(req, res, false), { host, port });
    }
    if (this.cfg.socket) {
      const path = this.cfg.socket;
      mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
      if (existsSync(path)) unlinkSync(path); // left behind by a process that did not stop cleanly
      await this.listen((req, res) => this.route(req, res, true), { path });
      chmodSync(path, 0o600);
    }
  }

  private listen(handler: http.RequestListener, where: { host: string; port: number } | { path: string }): Promise<void> {
    const server = http.createServer(handler);
    server.headersTimeout = 5000;
    server.requestTimeout = 10_000;
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', (e) => reject(new AdminError('ADMIN_LISTEN_FAILED', `admin API cannot listen on ${'path' in where ? where.path : `${where.host}:${where.port}`}: ${e.message}`, { cause: e })));
      server.listen(where, () => resolve());
    });
  }

  private send(res: http.ServerResponse, status: number, body: Json | string, type = 'application/json'): void {
    const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(text);
  }

  private sendLogin(res: http.ServerResponse, status: number, message: string | null, cookie?: string): void {
    const text = loginPage(message);
    res.writeHead(status, { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...(cookie ? { 'set-cookie': cookie } : {}) });
    res.end(text);
  }

  private readText(req: http.IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        data += c;
        if (data.length > 65536) req.destroy(new Error('body too large'));
      });
      req.on('end', () => resolve(data));
      req.on('error', reject);
    });
  }

  /** The page, its files, the login form; true when the request was one of those. */
  private async dashboard(req: http.IncomingMessage, res: http.ServerResponse, path: string, viaSocket: boolean): Promise<boolean> {
    const assets = this.assets;
    if (assets === null) return false;
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (req.method === 'POST' && path === '/login') {
      const form = new URLSearchParams(await this.readText(req));
      const r = this.access.login(req, form.get('token') ?? '', req.socket.remoteAddress ?? '');
      if ('cookie' in r) {
        this.log.info({ client: req.socket.remoteAddress }, 'dashboard login');
        res.writeHead(303, { location: '/', 'set-cookie': r.cookie, 'content-length': 0, 'cache-control': 'no-store' });
        res.end();
      } else {
        this.log.warn({ client: req.socket.remoteAddress, status: r.status }, `dashboard login refused: ${r.error}`);
        this.sendLogin(res, r.status, r.error);
      }
      return true;
    }
    if (req.method === 'POST' && path === '/logout') {
      res.writeHead(303, { location: '/', 'set-cookie': this.access.logout(req), 'content-length': 0 });
      res.end();
      return true;
    }
    if (!get || !(assets.has(path) || path === '/login')) return false;
    if (assets.missing) {
      this.send(res, 503, { error: assets.missing });
      return true;
    }
    const page = path === '/' || path === '/index.html' || path === '/login';
    if (page && !viaSocket && this.access.needsLogin && !this.access.hasSession(req)) {
      this.sendLogin(res, 200, null);
      return true;
    }
    if (path === '/login') {
      res.writeHead(303, { location: '/', 'content-length': 0 });
      res.end();
      return true;
    }
    assets.serve(req, res, path);
    return true;
  }

  private async readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
    const data = await this.readText(req);
    try {
      return data.trim() ? JSON.parse(data) as Record<string, unknown> : {};
    } catch {
      throw new Error('body is not JSON');
    }
  }


  private async route(req: http.IncomingMessage, res: http.ServerResponse, viaSocket: boolean): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (await this.dashboard(req, res, path, viaSocket)) return;
      if (!viaSocket) {
        const v = this.access.check(req, path);
        if (!v.ok) return this.send(res, v.status, { error: v.error });
      }
      if (path.startsWith('/wireguard/peers/') && req.method === 'DELETE') {
        const name = decodeURIComponent(path.slice('/wireguard/peers/'.length));
        this.src.removePeer(name);
        return this.send(res, 200, { removed: name });
      }
      const key = `${req.method} ${path}`;
      switch (key) {
        case 'GET /stats': return this.send(res, 200, this.stats());
        case 'GET /cache': {
          const c = this.src.resolver().cacheStats();
          return this.send(res, 200, { ...c, hitRatio: c.hits + c.misses > 0 ? c.hits / (c.hits + c.misses) : 0 });
        }
        case 'POST /cache/flush': {
          const body = await this.readJson(req);
          const name = typeof body.name === 'string' && body.name !== '' ? body.name : undefined;
          const flushed = this.src.resolver().flushCache(name);
          this.log.info({ name: name ?? '(all)', flushed }, 'cache flushed');
          return this.send(res, 200, { flushed, name: name ?? null });
        }
        case 'POST /reload': {
          const r = await this.src.reload();
          if (r.ok) return this.send(res, 200, { ok: true });
          const issues = (r.error as { issues?: unknown }).issues;
          return this.send(res, 422, { ok: false, error: r.error.message, issues: issues ?? null });
        }
        case 'GET /zone': {
          return this.send(res, 200, this.src.resolver().zone());
        }
        case 'GET /leases': return this.send(res, 200, { leases: this.src.leases(), sources: this.src.leaseStats() });
        case 'GET /upstreams': return this.send(res, 200, { upstreams: this.src.resolver().upstreamStats() });
        case 'GET /uplinks': {
          const u = this.src.uplinks();
          const flows = await this.src.uplinkFlows();
          const per = new Map(flows?.uplinks.map((f) => [f.name, f]) ?? []);
          return this.send(res, 200, {
            ...u,
            uplinks: u.uplinks.map((x) => ({ ...x, sessions: per.get(x.name)?.sessions ?? null, flushed: per.get(x.name)?.flushed ?? 0, lastFlush: per.get(x.name)?.lastFlush ?? null })),
            flows: flows && { nat: flows.nat, onFailover: flows.onFailover, l4Hash: flows.l4Hash, publishing: flows.publishing, error: flows.error },
          });
        }
        case 'GET /ha': return this.send(res, 200, this.src.ha());
        case 'GET /ddns/dynamic': {
          const d = this.src.ddnsDynamic();
          return d === null ? this.send(res, 404, { error: 'ddns is not configured' }) : this.send(res, 200, d);
        }
        case 'GET /wireguard': return this.send(res, 200, await this.src.wireguard());
        case 'GET /queueing': return this.send(res, 200, { uplinks: await this.src.queueing() });
        case 'GET /policies': return this.send(res, 200, await this.src.policies());
        case 'GET /events': return this.events.attach(req, res);
        case 'GET /history': return this.send(res, 200, this.history.snapshot());
        case 'POST /wireguard/peers': {
          const body = await this.readJson(req);
          const name = typeof body.name === 'string' ? body.name.trim() : '';
          if (!name) return this.send(res, 400, { error: 'name: a peer name is required' });
          const scope = body.scope === 'split' ? 'split' : body.scope === undefined || body.scope === 'full' ? 'full' : null;
          if (scope === null) return this.send(res, 400, { error: 'scope: full or split' });
          return this.send(res, 200, await this.src.addPeer(name, scope));
        }
        case 'GET /ddns': return this.send(res, 200, { enabled: this.src.ddns() !== null, ...(this.src.ddns() ?? {}) });
        case 'GET /metrics': {
          const m = await (this.metrics ??= import('./metrics.js').then((x) => x.createMetrics(this.src)));
          return this.send(res, 200, await m.metrics(), m.contentType);
        }
        default: {
          const known = ['/stats', '/cache', '/cache/flush', '/reload', '/zone', '/leases', '/upstreams', '/uplinks', '/policies', '/wireguard', '/wireguard/peers', '/queueing', '/ddns', '/ddns/dynamic', '/ha', '/events', '/history', '/metrics'];
          return this.send(res, known.includes(path) ? 405 : 404, { error: known.includes(path) ? `${req.method} not allowed here` : 'not found', paths: known });
        }
      }
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      this.send(res, 400, { error: (e as Error).message, ...(typeof code === 'string' ? { code } : {}) });
    }
  }

  private stats(): Json {
    const r = this.src.resolver();
    const acl = this.src.acl();
    const sum = (c: TransportCounts) => c.udp + c.tcp + c.dot + c.doh;
    const s = r.stats.snapshot();
    return {
      ...s,
      // totals as before: refused by the ACL; dropped by the ACL or as not worth an answer
      refused: sum(acl.refused),
      dropped: s.dropped + sum(acl.dropped),
      acl,
      qps: Math.round(this.qps.rate() * 10) / 10,
      coalesced: r.coalesced,
      topNames: r.topNames(10),
      topClients: r.topClients(10).map((c) => ({ ...c, name: r.nameOf(c.client) ?? null })),
      // exact counts at home rates; estimates only when sampling (or the sketch's capacity) is in force
      topEstimated: r.topEstimated(),
      udpIo: this.src.udpIo(),
    };
  }

  async close(): Promise<void> {
    this.qps.close();
    this.history.close();
    this.events.close();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    })));
    this.servers = [];
    if (this.cfg.socket && existsSync(this.cfg.socket)) unlinkSync(this.cfg.socket);
  }
}
