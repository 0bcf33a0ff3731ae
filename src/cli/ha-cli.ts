/**
 * `edgedns ha set master|backup|fault [-c FILE] [--state-file PATH]`: keepalived's notify
 * scripts call it. It writes the state file the running server follows (inotify: the server
 * takes the role up within milliseconds); the server need not be running, and a later start
 * reads the role from the file. keepalived's own state names (MASTER, BACKUP, FAULT, STOP) are
 * taken as they are; STOP (keepalived shutting down) is backup: publish nothing.
 */
import { sectionOf } from '../config/section.js';
import { HA_ROLES, writeHaState } from '../ha/ha-state.js';
import { HA, haSchema } from '../ha/ha-section.js';
import { CONFIG, flags } from './flags.js';
import { fail, loadOrReport } from './load.js';

const USAGE = 'edgedns ha set master|backup|fault [-c FILE] [--state-file PATH]';

export async function haCommand(args: string[]): Promise<number> {
  const f = flags<{ config?: string; 'state-file'?: string }>('ha', args, { ...CONFIG, 'state-file': { type: 'string' } }, USAGE);
  if (!f) return 2;
  const [sub, given] = f.positionals;
  const named = given?.toLowerCase() === 'stop' ? 'backup' : given?.toLowerCase();
  const role = HA_ROLES.find((r) => r === named);
  if (sub !== 'set' || role === undefined) {
    process.stderr.write(`usage: ${USAGE}\n`);
    return 2;
  }
  let file = f.values['state-file'];
  if (file === undefined && f.values.config !== undefined) {
    const c = await loadOrReport(f.values.config);
    if (c === null) return 1;
    file = sectionOf(c, HA)?.stateFile;
  }
  file ??= haSchema.parse({})['state-file'];
  try {
    writeHaState(file, role, new Date());
  } catch (e) {
    return fail('ha', e);
  }
  process.stdout.write(`ha role ${role} written to ${file}\n`);
  return 0;
}
