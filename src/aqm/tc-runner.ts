/** The one place the queueing room runs `tc` and `ip`. */
import { execFile, spawn } from 'node:child_process';
import { formatCommand, type Command } from './tc-render.js';
import { EdgeError } from '../errors.js';

export class TcError extends EdgeError<'TC_FAILED' | 'TC_MISSING'> {}

export function runCommand(c: Command): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(c.cmd, c.args, { timeout: 10_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      const pkg = c.cmd === 'ethtool' ? 'ethtool' : 'iproute2';
      reject(new TcError(missing ? 'TC_MISSING' : 'TC_FAILED', missing ? `${c.cmd} (${pkg}) is not installed` : `${formatCommand(c)}: ${stderr.trim().split('\n')[0] || err.message}`, { cause: err }));
    });
  });
}

/**
 * Many tc commands in one process (`tc -force -batch -`): a failing line does not stop the rest.
 * Resolves with the count of lines tc reported as failed.
 */
export function runTcBatch(commands: Command[]): Promise<number> {
  const lines = commands.filter((c) => c.cmd === 'tc').map((c) => `${c.args.join(' ')}\n`).join('');
  return new Promise((resolve, reject) => {
    const child = spawn('tc', ['-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', (e) => reject(new TcError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'TC_MISSING' : 'TC_FAILED', `tc -batch: ${e.message}`, { cause: e })));
    child.on('close', () => resolve((stderr.match(/^Command failed/gm) ?? []).length));
    child.stdin.end(lines);
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

export async function classStats(dev: string): Promise<TcClassStats[]> {
  return parseClassStats(await runCommand({ cmd: 'tc', args: ['-s', 'class', 'show', 'dev', dev] }));
}
