/** `edgedns queueing apply -c FILE [--dry-run [--algorithm cake|fq-codel|htb]]`. */
import { queueingApply } from '../aqm/queueing-command.js';
import type { QdiscKind } from '../aqm/queueing-model.js';
import { createLogger } from '../log.js';
import { CONFIG, flags } from './flags.js';
import { fail, loadOrReport } from './load.js';

const USAGE = 'edgedns queueing apply -c FILE [--dry-run [--algorithm cake|fq-codel|htb]]';
/** `--dry-run --algorithm X`: render X as another machine would run it, whatever this kernel has. */
const RENDER_AS: Record<string, QdiscKind> = { cake: 'cake', 'fq-codel': 'htb+fq_codel', htb: 'htb+prio' };

export async function queueingCommand(args: string[]): Promise<number> {
  const f = flags<{ config?: string; 'dry-run'?: boolean; algorithm?: string }>('queueing', args,
    { ...CONFIG, 'dry-run': { type: 'boolean' }, algorithm: { type: 'string' } }, USAGE);
  if (!f) return 2;
  const { config: file, 'dry-run': dryRun = false, algorithm } = f.values;
  const forced = algorithm === undefined ? undefined : RENDER_AS[algorithm];
  if (f.positionals[0] !== 'apply' || !file || (algorithm !== undefined && (!dryRun || forced === undefined))) {
    process.stderr.write(`usage: ${USAGE}\n`);
    return 2;
  }
  const config = await loadOrReport(file);
  if (config === null) return 1;
  try {
    await queueingApply(config, dryRun, createLogger(config.log.level, true), (t) => process.stdout.write(t), forced);
    return 0;
  } catch (e) {
    return fail('queueing apply', e);
  }
}
