/**
 * `ip -o monitor OBJECT`, kept running: netlink events wake us within milliseconds of a change.
 * The callers re-read the state themselves (and keep a slow poll for an `ip` that is missing or
 * died), so a line is only a nudge. Restarted a second after it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface IpMonitor {
  stop(): void;
}

export function ipMonitor(object: 'link' | 'address', onEvent: () => void): IpMonitor {
  let child: ChildProcess | null = null;
  let stopped = false;
  const run = () => {
    if (stopped) return;
    const c = spawn('ip', ['-o', 'monitor', object], { stdio: ['ignore', 'pipe', 'ignore'] });
    child = c;
    c.on('error', () => { child = null; }); // no `ip`: the caller's poll alone
    c.stdout!.on('data', onEvent);
    c.on('exit', () => {
      if (child === c) child = null;
      if (!stopped) setTimeout(run, 1000).unref();
    });
  };
  run();
  return {
    stop() {
      stopped = true;
      child?.kill('SIGTERM');
      child = null;
    },
  };
}
