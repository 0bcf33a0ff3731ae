/** `edgedns wg init|add-peer|remove-peer|apply|show`. */
import { requestAny, targetsFor } from '../admin/admin-client.js';
import type { Config } from '../config/types.js';
import { createLogger } from '../log.js';
import { wgAddPeer, wgApply, wgInit, wgRemovePeer, type Io } from '../wireguard/wg-command.js';
import { adminCommand } from './admin-commands.js';
import { CONFIG, flags } from './flags.js';
import { fail, loadOrReport } from './load.js';

const USAGE = 'edgedns wg init|add-peer NAME [--full-tunnel|--split] [--psk] [--png FILE]|remove-peer NAME|apply [--dry-run] -c FILE; edgedns wg show [--json]';
/** The uplinks a running server has selected, from its admin API; undefined when none answers. */
async function selectedUplinks(config: Config, admin: string | undefined): Promise<string[] | undefined> {
  try {
    const res = await requestAny(targetsFor({ admin, config }), 'GET', '/uplinks');
    if (res.status !== 200) return undefined;
    return (JSON.parse(res.body) as { selection?: { active?: string[] } }).selection?.active;
  } catch {
    return undefined;
  }
}

const stdio: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

interface WgFlags { config?: string; admin?: string; 'dry-run'?: boolean; 'full-tunnel'?: boolean; split?: boolean; psk?: boolean; png?: string }

export async function wgCommand(args: string[]): Promise<number> {
  if (args[0] === 'show') return adminCommand('show', args.slice(1), ['wireguard']);
  const f = flags<WgFlags>('wg', args, {
    ...CONFIG, admin: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'full-tunnel': { type: 'boolean' }, split: { type: 'boolean' },
    psk: { type: 'boolean' }, png: { type: 'string' },
  }, USAGE);
  if (!f) return 2;
  const [sub, name] = f.positionals;
  const v = f.values;
  const usage = (msg: string) => {
    process.stderr.write(`edgedns wg ${sub ?? ''}: ${msg}\nusage: ${USAGE}\n`);
    return 2;
  };
  if (!['init', 'add-peer', 'remove-peer', 'apply'].includes(sub ?? '')) return usage('unknown subcommand');
  if (!v.config) return usage('-c FILE is required');
  if ((sub === 'add-peer' || sub === 'remove-peer') && !name) return usage('a peer NAME is required');
  if (v['full-tunnel'] && v.split) return usage('--full-tunnel and --split exclude each other');
  const config = await loadOrReport(v.config);
  if (config === null) return 1;
  try {
    if (sub === 'init') wgInit(config, stdio);
    else if (sub === 'add-peer') {
      const selected = await selectedUplinks(config, v.admin);
      await wgAddPeer(config, name, { scope: v.split ? 'split' : 'full', psk: v.psk === true, png: v.png, selected }, stdio);
    }
    else if (sub === 'remove-peer') wgRemovePeer(config, name, stdio);
    else await wgApply(config, v['dry-run'] === true, createLogger(config.log.level, true), stdio);
    return 0;
  } catch (e) {
    return fail(`wg ${sub}`, e);
  }
}
