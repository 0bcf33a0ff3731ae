/** A real Unbound on loopback, answering `local-data`, started with a generated config. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from './dig.js';
import { freePort } from './ports.js';
import { stopChild } from './stop-child.js';

export interface UnboundOptions {
  /** `local-data` lines, e.g. `"www.lab.example. 300 IN A 192.0.2.10"` (without quotes) */
  data: string[];
  /** local zones (static) that the data lives in */
  zones?: string[];
  /** extra lines for the server: section */
  extra?: string[];
  /** serve DoT (tls-port) and DoH (https-port) too, with this certificate */
  tls?: { cert: string; key: string };
  /** reuse these ports (a restart) instead of picking free ones */
  ports?: { port: number; tls: number; https: number };
  /** modules (default "iterator"; "validator iterator" validates) */
  moduleConfig?: string;
  /** top-level clauses after server:, e.g. stub-zone: lines (written as given) */
  clauses?: string[];
  /** run inside this network namespace, on `address` (default 127.0.0.1), open to every client */
  netns?: string;
  address?: string;
}

export class Unbound {
  tlsPort = 0;
  httpsPort = 0;
  private constructor(readonly child: ChildProcess, readonly port: number, readonly dir: string, readonly log: string[]) {}

  static async start(opts: UnboundOptions): Promise<Unbound> {
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-unbound-'));
    const address = opts.address ?? '127.0.0.1';
    const port = opts.ports?.port ?? (opts.netns ? 53 : await freePort());
    const tlsPort = opts.tls ? opts.ports?.tls ?? await freePort() : 0;
    const httpsPort = opts.tls ? opts.ports?.https ?? await freePort() : 0;
    const tlsLines = opts.tls ? [
      `  interface: 127.0.0.1@${tlsPort}`, `  interface: 127.0.0.1@${httpsPort}`, `  tls-port: ${tlsPort}`, `  https-port: ${httpsPort}`,
      '  http-endpoint: "/dns-query"', `  tls-service-key: "${opts.tls.key}"`, `  tls-service-pem: "${opts.tls.cert}"`, '  incoming-num-tcp: 100',
    ] : [];
    const conf = [
      'server:',
      '  verbosity: 1', '  num-threads: 1', '  do-daemonize: no', '  use-syslog: no', '  logfile: ""',
      '  username: ""', '  chroot: ""', `  directory: "${dir}"`, `  pidfile: "${dir}/unbound.pid"`,
      '  do-ip6: no', `  interface: ${address}@${port}`, `  port: ${port}`,
      ...tlsLines,
      '  access-control: 127.0.0.0/8 allow', ...(opts.netns ? ['  access-control: 0.0.0.0/0 allow'] : []), `  module-config: "${opts.moduleConfig ?? 'iterator'}"`, '  do-not-query-localhost: no',
      '  local-zone: "test." nodefault', '  qname-minimisation: no',
      ...(opts.zones ?? []).map((z) => `  local-zone: "${z}" static`),
      ...opts.data.map((d) => `  local-data: '${d}'`), // single quotes: TXT data keeps its double quotes
      ...(opts.extra ?? []).map((l) => `  ${l}`),
      ...(opts.clauses ?? []),
      'remote-control:', '  control-enable: no',
    ].join('\n');
    writeFileSync(join(dir, 'unbound.conf'), conf);
    const log: string[] = [];
    const cmd = ['unbound', '-d', '-c', join(dir, 'unbound.conf')];
    const child = opts.netns
      ? spawn('ip', ['netns', 'exec', opts.netns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => log.push(d));
    const u = new Unbound(child, port, dir, log);
    u.tlsPort = tlsPort;
    u.httpsPort = httpsPort;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`unbound exited: ${log.join('')}`);
      const r = await dig([`@${address}`, '-p', String(port), 'probe.invalid', '+tries=1', '+time=1'], 8000, opts.netns).catch(() => null);
      if (r && r.status) return u;
      await new Promise((r2) => setTimeout(r2, 50));
    }
    throw new Error(`unbound did not start: ${log.join('')}`);
  }

  get url(): string {
    return `udp://127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}
