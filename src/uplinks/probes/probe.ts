/**
 * A probe asks one target whether the uplink carries traffic. Every probe leaves through the
 * uplink: sockets bind its source address, ping binds its interface. A probe never throws: it
 * resolves with a result whose error says what failed, in words for the event log.
 */
import type { ProbeSpec } from '../uplink-model.js';
import type { HostPort } from '../../host/host-port.js';

export interface ProbeContext {
  /** the uplink's source address for the target's family; undefined: none, the probe fails */
  source: string | undefined;
  iface: string;
  /** for probes that run a tool (icmp runs ping); default: the real host */
  host?: HostPort;
}

export type ProbeResult = { ok: true; rttMs: number } | { ok: false; error: string };

export type Probe = (spec: ProbeSpec, ctx: ProbeContext) => Promise<ProbeResult>;

/** "10.0.0.1", "10.0.0.1:53", "[fd00::1]:53", "fd00::1" → host and port. */
export function hostPort(target: string, fallbackPort: number): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(target);
  if (v6) return { host: v6[1], port: v6[2] ? Number(v6[2]) : fallbackPort };
  const v4 = /^([^:]+):(\d+)$/.exec(target);
  if (v4) return { host: v4[1], port: Number(v4[2]) };
  return { host: target, port: fallbackPort };
}

export function elapsedMs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

/**
 * The frame of a socket probe: `run` starts it and returns its cleanup; the first of an answer,
 * an error or the timeout settles it, then the cleanup runs.
 */
export function settleOnce(label: string, timeoutMs: number, run: (done: (r: ProbeResult) => void) => () => void): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let cleanup = () => undefined as void;
    const done = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      cleanup();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: `${label}: timeout after ${timeoutMs} ms` }), timeoutMs);
    cleanup = run(done);
  });
}
