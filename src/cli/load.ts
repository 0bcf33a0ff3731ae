/** The one way a command loads its config: errors printed as `FILE:LINE:COL key.path: message`. */
import { ConfigError, formatIssue } from '../config/errors.js';
import { loadHere, type ConfigLoader } from '../app/config-loader.js';
import type { Config } from '../config/types.js';

/**
 * The config of `file` (the embedded default when undefined), or null after printing why not
 * (to stderr, or `to` — `edgedns check` prints its findings on stdout).
 */
export async function loadOrReport(file: string | undefined, hints: Record<string, unknown> = {}, to: NodeJS.WriteStream = process.stderr, load: ConfigLoader = loadHere): Promise<Config | null> {
  try {
    return await load(file, hints);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const i of e.issues) to.write(`${formatIssue(i)}\n`);
    return null;
  }
}

/** What a command prints for an error of its own: the message, prefixed with the command. */
export function fail(command: string, e: unknown): number {
  process.stderr.write(`edgedns ${command}: ${(e as Error).message}\n`);
  return 1;
}
