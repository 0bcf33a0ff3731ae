/** Network namespaces a test creates and removes itself; names are unique per run. */
import { execFileSync } from 'node:child_process';

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
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
