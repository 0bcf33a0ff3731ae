/**
 * `http`: a HEAD request (undici) from the uplink's source; any HTTP status counts, because a
 * server that answers at all proves the path. undici is loaded on first use.
 */
import type { Dispatcher } from 'undici';
import { elapsedMs, type Probe } from './probe.js';

const agents = new Map<string, Dispatcher>();

async function agentFor(source: string): Promise<Dispatcher> {
  let a = agents.get(source);
  if (a === undefined) {
    const { Agent } = await import('undici');
    // No keep-alive: each probe opens its own connection, so a dead path cannot hide behind one.
    a = new Agent({ connect: { localAddress: source }, pipelining: 0 });
    agents.set(source, a);
  }
  return a;
}

export const httpProbe: Probe = async (spec, ctx) => {
  const label = `http to ${spec.target}`;
  if (ctx.source === undefined) return { ok: false, error: `${label}: no source address on ${ctx.iface}` };
  const { request } = await import('undici');
  const start = process.hrtime.bigint();
  const signal = AbortSignal.timeout(spec.timeoutMs);
  try {
    const res = await request(spec.target, { method: 'HEAD', dispatcher: await agentFor(ctx.source), signal, headersTimeout: spec.timeoutMs });
    await res.body.dump();
    return { ok: true, rttMs: elapsedMs(start) };
  } catch (e) {
    const timedOut = signal.aborted;
    return { ok: false, error: `${label}: ${timedOut ? `timeout after ${spec.timeoutMs} ms` : (e as Error).message}` };
  }
};

/** Close the probe agents (at stop). */
export async function closeHttpProbes(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  await Promise.all(all.map((a) => a.close().catch(() => undefined)));
}
