/**
 * The one place the uplinks room runs `ip`: JSON reads and `-batch` writes. Rendering stays pure
 * elsewhere; this file only executes.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Family, IpCommand } from './route-plan.js';
import { EdgeError } from '../errors.js';

export class IpError extends EdgeError<'IP_FAILED' | 'IP_MISSING'> {}

function run(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', args, { timeout: 10_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new IpError(missing ? 'IP_MISSING' : 'IP_FAILED', missing ? 'ip (iproute2) is not installed' : `ip ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

export async function ipJson<T>(family: Family, ...args: string[]): Promise<T> {
  const out = await run(['-j', `-${family}`, ...args]);
  return (out.trim() ? JSON.parse(out) : []) as T;
}

/** Runs every command even when one fails (-force); rejects with the failures, if any. */
export async function ipBatch(commands: IpCommand[]): Promise<void> {
  const errors: string[] = [];
  for (const family of [4, 6] as const) {
    const lines = commands.filter((c) => c.family === family).map((c) => c.args);
    if (lines.length === 0) continue;
    await run([`-${family}`, '-force', '-batch', '-'], `${lines.join('\n')}\n`).catch((e: Error) => errors.push(e.message));
  }
  if (errors.length > 0) throw new IpError('IP_FAILED', errors.join('; '));
}

/** Why this process cannot change routes, or null when it can (CAP_NET_ADMIN and `ip`). Runs once, at start. */
export function routingUnavailable(): string | null {
  let capEff = 0n;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    capEff = m ? BigInt(`0x${m[1]}`) : 0n;
  } catch { /* not Linux: no capabilities to read */ }
  if ((capEff & (1n << 12n)) === 0n) return 'no CAP_NET_ADMIN (run as root or add contrib/edgedns-multiwan.conf)';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).error) return 'ip (iproute2) is not installed';
  return null;
}
