/**
 * The one place the uplinks room runs `ip`, through the host port: JSON reads and `-batch`
 * writes. Rendering stays pure elsewhere; this file only executes.
 */
import { spawnSync } from 'node:child_process';
import { HostError, systemHost, type HostPort } from '../host/host-port.js';
import type { Family, IpCommand } from './route-plan.js';

export async function ipJson<T>(family: Family, args: string[], host: HostPort = systemHost): Promise<T> {
  const out = await host.run('ip', ['-j', `-${family}`, ...args]);
  return (out.trim() ? JSON.parse(out) : []) as T;
}

/** Runs every command even when one fails (-force); rejects with the failures, if any. */
export async function ipBatch(commands: IpCommand[], host: HostPort = systemHost): Promise<void> {
  const errors: string[] = [];
  for (const family of [4, 6] as const) {
    const lines = commands.filter((c) => c.family === family).map((c) => c.args);
    if (lines.length === 0) continue;
    await host.run('ip', [`-${family}`, '-force', '-batch', '-'], { input: `${lines.join('\n')}\n` }).catch((e: Error) => errors.push(e.message));
  }
  if (errors.length > 0) throw new HostError('HOST_FAILED', errors.join('; '), 'ip');
}

/** Why this process cannot change routes, or null when it can (CAP_NET_ADMIN and `ip`). Runs once, at start. */
export function routingUnavailable(host: HostPort = systemHost): string | null {
  const m = /^CapEff:\s*([0-9a-f]+)/m.exec(host.read('/proc/self/status') ?? ''); // not Linux: no capabilities to read
  const capEff = m ? BigInt(`0x${m[1]}`) : 0n;
  if ((capEff & (1n << 12n)) === 0n) return 'no CAP_NET_ADMIN (run as root or add contrib/edgedns-multiwan.conf)';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).error) return 'ip (iproute2) is not installed';
  return null;
}
