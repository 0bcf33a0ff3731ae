/** The one place the queueing room runs `tc`, `ip` (for the ifb) and `ethtool`: through the host port. */
import { HostError, type HostPort } from '../host/host-port.js';
import type { Command } from './tc-render.js';

export function runCommand(host: HostPort, c: Command): Promise<string> {
  return host.run(c.cmd, c.args);
}

/**
 * Many tc commands in one process (`tc -force -batch -`): a failing line does not stop the rest.
 * Resolves with the count of lines tc reported as failed.
 */
export async function runTcBatch(host: HostPort, commands: Command[]): Promise<number> {
  const input = commands.filter((c) => c.cmd === 'tc').map((c) => `${c.args.join(' ')}\n`).join('');
  try {
    await host.run('tc', ['-force', '-batch', '-'], { input });
    return 0;
  } catch (e) {
    if (!(e instanceof HostError) || e.code !== 'HOST_FAILED') throw e;
    return Math.max(1, (e.stderr.match(/^Command failed/gm) ?? []).length);
  }
}

/** In order; the first failure stops the run. */
export async function runAll(host: HostPort, commands: Command[]): Promise<void> {
  for (const c of commands) await host.run(c.cmd, c.args);
}

export interface TcQdisc {
  kind: string;
  handle: string;
  root?: boolean;
  parent?: string;
  bytes: number;
  packets: number;
  drops: number;
  overlimits: number;
  backlog: number;
  qlen: number;
  /** fq_codel */
  ecn_mark?: number;
  /** cake: per tin */
  tins?: Array<{ ecn_mark?: number; drops?: number }>;
}

export async function qdiscs(host: HostPort, dev: string): Promise<TcQdisc[]> {
  const out = await host.run('tc', ['-s', '-j', 'qdisc', 'show', 'dev', dev]);
  return out.trim() ? (JSON.parse(out) as TcQdisc[]) : [];
}

export interface TcClassStats {
  classid: string;
  bytes: number;
  packets: number;
  drops: number;
  overlimits: number;
}

/** htb class counters from `tc -s class show` (this iproute2 prints no JSON for classes). */
export function parseClassStats(text: string): TcClassStats[] {
  const out: TcClassStats[] = [];
  const re = /^class \S+ (\S+)[^\n]*\n\s*Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/gm;
  for (const m of text.matchAll(re)) {
    out.push({ classid: m[1], bytes: Number(m[2]), packets: Number(m[3]), drops: Number(m[4]), overlimits: Number(m[5]) });
  }
  return out;
}

export async function classStats(host: HostPort, dev: string): Promise<TcClassStats[]> {
  return parseClassStats(await host.run('tc', ['-s', 'class', 'show', 'dev', dev]));
}
