/**
 * Which queueing disciplines this kernel has, tried once at start on a throwaway ifb device (so
 * no real interface is touched), and which kind each algorithm gets here:
 * cake → htb + fq_codel → htb with an interactive class and short byte FIFOs. An algorithm
 * named explicitly that the kernel lacks is a warning, and the fallback is used.
 */
import type { Algorithm, QdiscKind } from './queueing-model.js';
import { systemHost, type HostPort } from '../host/host-port.js';

export interface Capabilities {
  cake: boolean;
  fqCodel: boolean;
  htb: boolean;
  ifb: boolean;
  /** why the probe could not run, if it could not */
  error: string | null;
}

export async function probeCapabilities(host: HostPort = systemHost): Promise<Capabilities> {
  const dev = `edq${process.pid % 100000}`;
  try {
    await host.run('ip', ['link', 'add', dev, 'type', 'ifb']);
  } catch (e) {
    return { cake: false, fqCodel: false, htb: true, ifb: false, error: `cannot create an ifb device to test qdiscs on: ${(e as Error).message}` };
  }
  const has = (kind: string) => host.run('tc', ['qdisc', 'replace', 'dev', dev, 'root', kind]).then(() => true, () => false);
  try {
    return { cake: await has('cake'), fqCodel: await has('fq_codel'), htb: await has('htb'), ifb: true, error: null };
  } finally {
    await host.run('ip', ['link', 'del', dev]).catch(() => undefined);
  }
}

export function chooseKind(algorithm: Algorithm, caps: Capabilities): { kind: QdiscKind; reason: string } {
  const missing: string[] = [];
  if (algorithm === 'auto' || algorithm === 'cake') {
    if (caps.cake) return { kind: 'cake', reason: algorithm === 'cake' ? 'cake, as configured' : 'cake: the best this kernel has' };
    missing.push('cake');
  }
  if (caps.fqCodel) return { kind: 'htb+fq_codel', reason: `htb + fq_codel${missing.length ? ': the kernel has no cake' : ', as configured'}` };
  missing.push('fq_codel');
  return { kind: 'htb+prio', reason: `htb with an interactive class served first and short byte FIFOs (no AQM): the kernel has no ${missing.join(' or ')}` };
}

/** The warning for an explicit algorithm this kernel cannot run, or null. */
export function algorithmWarning(algorithm: Algorithm, caps: Capabilities): string | null {
  if (caps.error !== null) return null;
  if (algorithm === 'cake' && !caps.cake) return `algorithm cake: this kernel has no cake; ${chooseKind(algorithm, caps).kind} is used instead`;
  if (algorithm === 'fq-codel' && !caps.fqCodel) return `algorithm fq-codel: this kernel has no fq_codel; ${chooseKind(algorithm, caps).kind} is used instead`;
  return null;
}
