/** The `edgedns` command. */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, formatIssue } from './config/errors.js';
import { loadConfig } from './config/load.js';
import { certInit, trustInstructions } from './cert/cert-init.js';
import { cacheFlush, reload, show, SHOW_VIEWS, type ShowView } from './admin/show.js';
import { createLogger } from './log.js';
import { EdgeServer } from './server.js';
import { dryRunRoutes } from './uplinks/routes-command.js';
import { wgAddPeer, wgApply, wgInit, wgRemovePeer, type Io } from './wireguard/wg-command.js';
import { queueingApply } from './aqm/queueing-command.js';
import type { QdiscKind } from './aqm/queueing-model.js';
import { probeCapabilities } from './aqm/capabilities.js';
import type { KernelQdiscs } from './aqm/check-queueing.js';

const HELP = `edgedns — the DNS server of an edge gateway

Usage:
  edgedns serve [-c FILE]        run the server (no -c: the embedded default config)
  edgedns check -c FILE          validate a config file; errors as FILE:LINE:COL key.path: message
  edgedns cert init [--dir certs] [--name NAME]... [--ip ADDR]...
                                 make a local CA and a server certificate for DoT/DoH
  edgedns show stats|cache|zone|leases|upstreams|uplinks|policies|wireguard|queueing [--json]
  edgedns cache flush [NAME]     drop the whole cache, or one name (all types)
  edgedns reload                 re-read the config file; an invalid one changes nothing
  edgedns uplinks routes -c FILE --dry-run
                                 print the ip commands multi-WAN policy routing would run
  edgedns wg init -c FILE        make the WireGuard server key (mode 0600) if missing; print its public key
  edgedns wg add-peer NAME -c FILE [--full-tunnel | --split] [--psk] [--png FILE]
                                 add a peer; print its client config (stdout) and QR (stderr)
  edgedns wg remove-peer NAME -c FILE
  edgedns wg apply -c FILE [--dry-run]
                                 bring the tunnel to the config (kernel WireGuard, else wireguard-go)
  edgedns wg show [--json]       peers of a running server: handshake, rx/tx, endpoint, state
  edgedns queueing apply -c FILE [--dry-run [--algorithm cake|fq-codel|htb]]
                                 put the WAN shapers in place (serve does it at start, with autorate);
                                 --algorithm renders that tree for another machine
  edgedns --help | --version

show, cache flush and reload talk to a running server: --admin http://HOST:PORT or
--admin unix:/path/admin.sock, else the admin settings of -c FILE, else http://127.0.0.1:9153.
Signals to a running server: SIGHUP re-reads the config file; SIGTERM/SIGINT stop it gracefully.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  let args;
  try {
    args = parseArgs({
      args: rest,
      options: {
        config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' },
        admin: { type: 'string' }, json: { type: 'boolean' }, 'dry-run': { type: 'boolean' },
        dir: { type: 'string' }, name: { type: 'string', multiple: true }, ip: { type: 'string', multiple: true },
        'full-tunnel': { type: 'boolean' }, split: { type: 'boolean' }, psk: { type: 'boolean' }, png: { type: 'string' },
        algorithm: { type: 'string' },
      },
      allowPositionals: true,
    });
  } catch (e) {
    process.stderr.write(`edgedns ${command}: ${(e as Error).message}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  switch (command) {
    case 'check': return check(args.values.config);
    case 'serve': return serve(args.values.config);
    case 'show': case 'reload': case 'cache':
      return adminCommand(command, args.positionals, args.values);
    case 'uplinks':
      if (args.positionals[0] !== 'routes') break;
      return uplinkRoutes(args.values.config, args.values['dry-run'] === true);
    case 'wg':
      if (args.positionals[0] === 'show') return adminCommand('show', ['wireguard'], args.values);
      if (!['init', 'add-peer', 'remove-peer', 'apply'].includes(args.positionals[0] ?? '')) break;
      return wgCommand(args.positionals, args.values);
    case 'queueing':
      if (args.positionals[0] !== 'apply') break;
      return queueingCommand(args.values.config, args.values['dry-run'] === true, args.values.algorithm);
    case 'cert':
      if (args.positionals[0] !== 'init') break;
      return certCommand(args.values.dir ?? 'certs', args.values.name ?? [], args.values.ip ?? []);
  }
  process.stderr.write(`edgedns: unknown or not yet available command "${[command, ...args.positionals].join(' ')}"\n\n${HELP}`);
  return 2;
}

async function adminCommand(command: string, positionals: string[], v: { config?: string; admin?: string; json?: boolean }): Promise<number> {
  let config;
  if (v.config) {
    try {
      config = await loadConfig(v.config);
    } catch (e) {
      process.stderr.write(`${e instanceof ConfigError ? e.issues.map(formatIssue).join('\n') : (e as Error).message}\n`);
      return 1;
    }
  }
  const o = { admin: v.admin, config, json: v.json };
  try {
    if (command === 'reload') return await reload(o);
    if (command === 'cache') {
      if (positionals[0] !== 'flush') {
        process.stderr.write('usage: edgedns cache flush [NAME]\n');
        return 2;
      }
      return await cacheFlush(positionals[1], o);
    }
    const view = positionals[0] as ShowView;
    if (!SHOW_VIEWS.includes(view)) {
      process.stderr.write(`usage: edgedns show ${SHOW_VIEWS.join('|')} [--json]\n`);
      return 2;
    }
    return await show(view, o);
  } catch (e) {
    process.stderr.write(`edgedns ${command}: ${(e as Error).message}\n`);
    return 1;
  }
}

async function uplinkRoutes(file: string | undefined, dryRun: boolean): Promise<number> {
  if (!file || !dryRun) {
    process.stderr.write('usage: edgedns uplinks routes -c FILE --dry-run\n(edgedns serve installs the routes itself when multi-wan.apply-routes is true)\n');
    return 2;
  }
  try {
    process.stdout.write(dryRunRoutes(await loadConfig(file)));
    return 0;
  } catch (e) {
    process.stderr.write(`${e instanceof ConfigError ? e.issues.map(formatIssue).join('\n') : (e as Error).message}\n`);
    return 1;
  }
}

async function queueingCommand(file: string | undefined, dryRun: boolean, algorithm: string | undefined): Promise<number> {
  const forced = algorithm === undefined ? undefined : RENDER_AS[algorithm];
  if (!file || (algorithm !== undefined && (!dryRun || forced === undefined))) {
    process.stderr.write('usage: edgedns queueing apply -c FILE [--dry-run [--algorithm cake|fq-codel|htb]]\n');
    return 2;
  }
  try {
    const config = await loadConfig(file);
    await queueingApply(config, dryRun, createLogger(config.log.level, true), (t) => process.stdout.write(t), forced);
    return 0;
  } catch (e) {
    process.stderr.write(`${e instanceof ConfigError ? e.issues.map(formatIssue).join('\n') : `edgedns queueing apply: ${(e as Error).message}`}\n`);
    return 1;
  }
}

/** `--dry-run --algorithm X`: render X as another machine would run it, whatever this kernel has. */
const RENDER_AS: Record<string, QdiscKind> = { cake: 'cake', 'fq-codel': 'htb+fq_codel', htb: 'htb+prio' };

const stdio: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

interface WgFlags { config?: string; admin?: string; 'dry-run'?: boolean; 'full-tunnel'?: boolean; split?: boolean; psk?: boolean; png?: string }

async function wgCommand([sub, name]: string[], v: WgFlags): Promise<number> {
  const usage = (msg: string) => {
    process.stderr.write(`edgedns wg ${sub}: ${msg}\n`);
    return 2;
  };
  if (!v.config) return usage('-c FILE is required');
  if ((sub === 'add-peer' || sub === 'remove-peer') && !name) return usage('a peer NAME is required');
  if (v['full-tunnel'] && v.split) return usage('--full-tunnel and --split exclude each other');
  try {
    const config = await loadConfig(v.config);
    if (sub === 'init') wgInit(config, stdio);
    else if (sub === 'add-peer') await wgAddPeer(config, name, { scope: v.split ? 'split' : 'full', psk: v.psk === true, png: v.png, admin: v.admin }, stdio);
    else if (sub === 'remove-peer') wgRemovePeer(config, name, stdio);
    else await wgApply(config, v['dry-run'] === true, createLogger(config.log.level, true), stdio);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) process.stderr.write(`${e.issues.map(formatIssue).join('\n')}\n`);
    else process.stderr.write(`edgedns wg ${sub}: ${(e as Error).message}\n`);
    return 1;
  }
}

function certCommand(dir: string, names: string[], ips: string[]): number {
  try {
    process.stdout.write(trustInstructions(certInit({ dir, names, ips })));
    return 0;
  } catch (e) {
    process.stderr.write(`edgedns cert init: ${(e as Error).message}\n`);
    return 1;
  }
}

/**
 * The kernel's qdiscs, tried on a throwaway ifb, when the file names an algorithm explicitly
 * (that is when a missing one deserves a warning); undefined when unneeded or it cannot tell.
 */
async function kernelQdiscsFor(file: string): Promise<KernelQdiscs | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  if (!/algorithm:\s*(cake|fq-codel)/.test(text)) return undefined;
  const caps = await probeCapabilities();
  return caps.error === null ? { cake: caps.cake, fqCodel: caps.fqCodel } : undefined;
}

async function check(file: string | undefined): Promise<number> {
  if (!file) {
    process.stderr.write('edgedns check: -c FILE is required\n');
    return 2;
  }
  try {
    const c = await loadConfig(file, { kernel: await kernelQdiscsFor(file) });
    for (const w of c.warnings) process.stdout.write(`${formatIssue({ ...w, message: `warning: ${w.message}` })}\n`);
    process.stdout.write(`${file}: ok${c.warnings.length > 0 ? ` (${c.warnings.length} warning${c.warnings.length > 1 ? 's' : ''})` : ''}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const i of e.issues) process.stdout.write(`${formatIssue(i)}\n`);
      return 1;
    }
    throw e;
  }
}

async function serve(file: string | undefined): Promise<number | undefined> {
  let log = createLogger('info');
  let server: EdgeServer;
  try {
    const level = (await loadConfig(file)).log.level;
    log = createLogger(level);
    server = await EdgeServer.start({ configPath: file, log });
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const i of e.issues) process.stderr.write(`${formatIssue(i)}\n`);
    } else {
      log.fatal({ err: (e as Error).message, code: (e as { code?: string }).code }, 'cannot start');
    }
    return 1;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    server.stop().then(() => {
      log.info('stopped');
      log.flush?.();
      process.exit(0);
    }, (err: Error) => {
      log.error({ err: err.message }, 'stop failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    if (file === undefined) {
      log.warn('SIGHUP: running on the embedded default config; nothing to re-read');
      return;
    }
    void server.reload();
  });
  return undefined;
}
