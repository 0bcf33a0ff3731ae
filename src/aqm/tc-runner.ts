/** The one place the queueing room runs `tc` and `ip`. */
import { execFile } from 'node:child_process';
import { formatCommand, type Command } from './tc-render.js';

export class TcError extends Error {
  constructor(readonly code: 'TC_FAILED' | 'TC_MISSING', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TcError';
  }
}

export function runCommand(c: Command): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(c.cmd, c.args, { timeout: 10_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new TcError(missing ? 'TC_MISSING' : 'TC_FAILED', missing ? `${c.cmd} (iproute2) is not installed` : `${formatCommand(c)}: ${stderr.trim().split('\n')[0] || err.message}`, { cause: err }));
    });
  });
}

/** In order; the first failure stops the run. */
export async function runAll(commands: Command[]): Promise<void> {
  for (const c of commands) await runCommand(c);
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

export async function qdiscs(dev: string): Promise<TcQdisc[]> {
  const out = await runCommand({ cmd: 'tc', args: ['-s', '-j', 'qdisc', 'show', 'dev', dev] });
  return out.trim() ? (JSON.parse(out) as TcQdisc[]) : [];
}

export async function linkExists(dev: string): Promise<boolean> {
  return runCommand({ cmd: 'ip', args: ['link', 'show', 'dev', dev] }).then(() => true, () => false);
}
