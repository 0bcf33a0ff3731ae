/**
 * GSO, TSO and GRO on a shaped device: below OFFLOAD_OFF_BELOW they go off, so the queues hold
 * real packets (a 64 KB super-packet takes 52 ms at 10 Mbit/s and sits in front of every ping).
 * What was on is remembered and turned back on when edgedns stops shaping the device.
 */
import type { Command } from './tc-render.js';
import type { HostPort } from '../host/host-port.js';

const FEATURES: Array<[string, string]> = [
  ['generic-segmentation-offload', 'gso'], ['tcp-segmentation-offload', 'tso'], ['generic-receive-offload', 'gro'],
];

/** ethtool -k output → the short names of the features that are on and may be changed. */
export function enabledOffloads(ethtoolK: string): string[] {
  const on: string[] = [];
  for (const [long, short] of FEATURES) {
    const m = new RegExp(`^${long}: (on|off)( \\[fixed\\])?$`, 'm').exec(ethtoolK);
    if (m && m[1] === 'on' && !m[2]) on.push(short);
  }
  return on;
}

export function offloadCommand(dev: string, features: string[], state: 'on' | 'off'): Command {
  return { cmd: 'ethtool', args: ['-K', dev, ...features.flatMap((f) => [f, state])] };
}

/** Turn them off; resolves with what was on (to restore), or why it could not. */
export async function disableOffloads(host: HostPort, dev: string): Promise<{ restore: string[]; error: string | null }> {
  try {
    const on = enabledOffloads(await host.run('ethtool', ['-k', dev]));
    if (on.length > 0) await host.run('ethtool', offloadCommand(dev, on, 'off').args);
    return { restore: on, error: null };
  } catch (e) {
    return { restore: [], error: (e as Error).message };
  }
}

export async function restoreOffloads(host: HostPort, dev: string, features: string[]): Promise<void> {
  if (features.length > 0) await host.run('ethtool', offloadCommand(dev, features, 'on').args).catch(() => undefined);
}
