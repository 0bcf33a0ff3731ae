/** `edgedns uplinks routes -c FILE --dry-run`: the ip commands policy routing would run. */
import { dryRunRoutes } from '../uplinks/routes-command.js';
import { CONFIG, flags } from './flags.js';
import { loadOrReport } from './load.js';

const USAGE = 'edgedns uplinks routes -c FILE --dry-run';

export async function uplinksCommand(args: string[]): Promise<number> {
  const f = flags<{ config?: string; 'dry-run'?: boolean }>('uplinks', args, { ...CONFIG, 'dry-run': { type: 'boolean' } }, USAGE);
  if (!f) return 2;
  if (f.positionals[0] !== 'routes' || !f.values.config || !f.values['dry-run']) {
    process.stderr.write(`usage: ${USAGE}\n(edgedns serve installs the routes itself when multi-wan.apply-routes is true)\n`);
    return 2;
  }
  const config = await loadOrReport(f.values.config);
  if (config === null) return 1;
  process.stdout.write(dryRunRoutes(config));
  return 0;
}
