/**
 * Flows from a LAN namespace to the ISPs' echo (test/fixtures/flow-echo.mjs), through
 * test/fixtures/flow-client.mjs: a long-running UDP or TCP flow whose answers ("ISP SOURCE")
 * arrive as they come, and a burst of new flows counted by which ISP answered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execIn } from './netns.js';
import { stopChild } from './stop-child.js';

const CLIENT = fileURLToPath(new URL('../fixtures/flow-client.mjs', import.meta.url));
export const ECHO = fileURLToPath(new URL('../fixtures/flow-echo.mjs', import.meta.url));
/** the echo's address at both ISPs, and its port */
export const ECHO_TARGET = '10.250.0.7';
export const ECHO_PORT = '7007';

export class LanFlow {
  readonly lines: Array<{ ms: number; label: string; source: string }> = [];
  closed = false;
  readonly child: ChildProcess;
  private readonly t0 = Date.now();
  constructor(netns: string, kind: 'flow' | 'tcp') {
    this.child = spawn('ip', ['netns', 'exec', netns, process.execPath, CLIENT, kind, ECHO_TARGET, ECHO_PORT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    this.child.stdout!.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const [, what, source] = buf.slice(0, i).split(' ');
        buf = buf.slice(i + 1);
        if (what === 'closed' || what === 'error') this.closed = true;
        else this.lines.push({ ms: Date.now() - this.t0, label: what, source });
      }
    });
  }
  last() { return this.lines.at(-1); }
  /** answers that came at or after `t` (ms epoch) */
  since(t: number) { return this.lines.filter((l) => l.ms + this.t0 >= t); }
  stop() { return stopChild(this.child); }
}

/** `n` new UDP flows, one datagram each: how many each ISP answered ("none": unanswered after 1.5 s). */
export async function spreadFlows(netns: string, n: number): Promise<Record<string, number>> {
  return JSON.parse((await execIn([process.execPath, CLIENT, 'spread', String(n), ECHO_TARGET, ECHO_PORT], netns)).stdout) as Record<string, number>;
}
