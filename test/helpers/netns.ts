/** Network namespaces a test creates and removes itself; names are unique per run. */
import { execFile, execFileSync } from 'node:child_process';

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

export interface ExecResult {
  /** 0, the command's exit status, or 1 when it could not run or timed out */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command inside a namespace; never rejects (a failure is a nonzero `code`). */
export function execIn(args: string[], netns: string, timeoutMs = 20_000): Promise<ExecResult> {
  return new Promise((resolve) => execFile('ip', ['netns', 'exec', netns, ...args], { timeout: timeoutMs }, (err, stdout, stderr) =>
    resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })));
}

export function uniqueName(): string {
  return `edns-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
}

export class Netns {
  /** `existing`: a namespace made elsewhere (a lab script) that this object removes */
  constructor(readonly name = uniqueName(), existing = false) {
    if (existing) return;
    ip('netns', 'add', this.name);
    ip('-n', this.name, 'link', 'set', 'lo', 'up');
  }

  ip(...args: string[]): string {
    return ip('-n', this.name, ...args);
  }

  remove(): void {
    try {
      ip('netns', 'del', this.name);
    } catch { /* already gone */ }
  }
}
