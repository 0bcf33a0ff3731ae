/** `edgedns check -c FILE`: exit 0 (warnings printed), or 1 with `FILE:LINE:COL key.path: message` per error. */
import { readFile } from 'node:fs/promises';
import { probeCapabilities } from '../aqm/capabilities.js';
import type { KernelQdiscs } from '../aqm/check-queueing.js';
import { formatIssue } from '../config/errors.js';
import { CONFIG, flags } from './flags.js';
import { loadOrReport } from './load.js';

const USAGE = 'edgedns check -c FILE';

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

export async function check(args: string[]): Promise<number> {
  const f = flags<{ config?: string }>('check', args, CONFIG, USAGE);
  if (!f) return 2;
  const file = f.values.config;
  if (!file) {
    process.stderr.write(`edgedns check: -c FILE is required\nusage: ${USAGE}\n`);
    return 2;
  }
  const c = await loadOrReport(file, { kernel: await kernelQdiscsFor(file) }, process.stdout);
  if (c === null) return 1;
  for (const w of c.warnings) process.stdout.write(`${formatIssue({ ...w, message: `warning: ${w.message}` })}\n`);
  process.stdout.write(`${file}: ok${c.warnings.length > 0 ? ` (${c.warnings.length} warning${c.warnings.length > 1 ? 's' : ''})` : ''}\n`);
  return 0;
}
