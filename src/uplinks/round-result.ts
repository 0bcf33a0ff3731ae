/**
 * Whether a probe round counts as good: at least `min-targets-up` targets answered (capped at the
 * number of probes, so one dead target among several does not fail a healthy WAN). A probe-less
 * uplink's round is its carrier.
 */
export interface TargetState {
  ok: boolean | null;
  error: string | null;
}

export function roundResult(targets: TargetState[], minTargetsUp: number, carrier: boolean, iface: string): { ok: boolean; why: string } {
  if (targets.length === 0) return { ok: carrier, why: `no carrier on ${iface}` };
  const need = Math.min(minTargetsUp, targets.length);
  const up = targets.filter((t) => t.ok === true).length;
  const failed = targets.filter((t) => t.ok === false).map((t) => t.error ?? 'failed');
  return {
    ok: up >= need,
    why: failed.join('; ') + (targets.length > 1 ? ` (${up} of ${targets.length} targets up, ${need} needed)` : ''),
  };
}
