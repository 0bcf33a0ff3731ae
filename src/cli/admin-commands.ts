/** `edgedns show …`, `reload`, `cache flush [NAME]`, `wg show`: a running server through its admin API. */
import { cacheFlush, reload, show, SHOW_VIEWS, type ShowView } from '../admin/show.js';
import type { Config } from '../config/types.js';
import { ADMIN, CONFIG, flags } from './flags.js';
import { fail, loadOrReport } from './load.js';

interface AdminFlags { config?: string; admin?: string; json?: boolean }

const USAGE: Record<string, string> = {
  show: `edgedns show ${SHOW_VIEWS.join('|')} [--json] [--admin URL] [-c FILE]`,
  reload: 'edgedns reload [--admin URL] [-c FILE]',
  cache: 'edgedns cache flush [NAME] [--admin URL] [-c FILE]',
};

/** `views`: the positionals after the command (`wg show` passes ['wireguard']). */
export async function adminCommand(command: 'show' | 'reload' | 'cache', args: string[], positionals?: string[]): Promise<number> {
  const f = flags<AdminFlags>(command, args, { ...CONFIG, ...ADMIN }, USAGE[command]);
  if (!f) return 2;
  const words = positionals ?? f.positionals;
  let config: Config | undefined;
  if (f.values.config) {
    const c = await loadOrReport(f.values.config);
    if (c === null) return 1;
    config = c;
  }
  const o = { admin: f.values.admin, config, json: f.values.json };
  try {
    if (command === 'reload') return await reload(o);
    if (command === 'cache') {
      if (words[0] !== 'flush') {
        process.stderr.write(`usage: ${USAGE.cache}\n`);
        return 2;
      }
      return await cacheFlush(words[1], o);
    }
    const view = words[0] as ShowView;
    if (!SHOW_VIEWS.includes(view)) {
      process.stderr.write(`usage: ${USAGE.show}\n`);
      return 2;
    }
    return await show(view, o);
  } catch (e) {
    return fail(command, e);
  }
}
