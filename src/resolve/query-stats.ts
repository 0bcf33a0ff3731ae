/**
 * Plain counters the hot path increments: a transport × rcode matrix, answers by source and
 * latency buckets. Everything derived (labels, totals, rates, Prometheus families) is computed
 * when read.
 */
import type { Protocol } from '../config/types.js';
import { RCODE_NAMES } from '../dns/constants.js';

export type AnswerSource = 'local' | 'cache' | 'upstream' | 'stale' | 'error';

export const TRANSPORTS: Protocol[] = ['udp', 'tcp', 'dot', 'doh'];
export const TRANSPORT_INDEX: Record<Protocol, number> = { udp: 0, tcp: 1, dot: 2, doh: 3 };
/** Upper bounds (seconds) of the latency buckets; the last bucket is +Inf. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class QueryStats {
  /** [transport * 32 + rcode] */
  readonly byTransportRcode = new Float64Array(TRANSPORTS.length * 32);
  readonly bySource: Record<AnswerSource, number> = { local: 0, cache: 0, upstream: 0, stale: 0, error: 0 };
  /** per-bucket (not cumulative) counts; index LATENCY_BUCKETS.length is +Inf */
  readonly latency = new Float64Array(LATENCY_BUCKETS.length + 1);
  latencySum = 0;
  /** Packets not worth an answer (shorter than a header, a response); ACL drops are the gate's. */
  dropped = 0;
  /** Signed queries whose TSIG failed (BADKEY, BADSIG, BADTIME, a broken record). */
  tsigFailures = 0;
  readonly startedAt = Date.now();

  count(transport: Protocol, rcode: number): void {
    this.byTransportRcode[TRANSPORT_INDEX[transport] * 32 + (rcode & 31)]++;
  }

  /** An answer produced synchronously (no I/O): handled in microseconds, so the first bucket. */
  observeSync(): void {
    this.latency[0]++;
  }

  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    this.latency[i]++;
    this.latencySum += seconds;
  }

  /** The latency below which a fraction q of answers fell (bucket upper bound), or null. */
  quantile(q: number): number | null {
    const total = this.latency.reduce((a, b) => a + b, 0);
    if (total === 0) return null;
    let seen = 0;
    for (let i = 0; i < this.latency.length; i++) {
      seen += this.latency[i];
      if (seen >= q * total) return i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i] : Infinity;
    }
    return null;
  }

  snapshot() {
    const byTransport: Record<string, number> = {};
    const byRcode: Record<string, number> = {};
    let total = 0;
    TRANSPORTS.forEach((t, ti) => {
      for (let r = 0; r < 32; r++) {
        const n = this.byTransportRcode[ti * 32 + r];
        if (n === 0) continue;
        byTransport[t] = (byTransport[t] ?? 0) + n;
        const name = RCODE_NAMES[r] ?? `RCODE${r}`;
        byRcode[name] = (byRcode[name] ?? 0) + n;
        total += n;
      }
    });
    const ms = (v: number | null) => (v === null ? null : v === Infinity ? null : v * 1000);
    return {
      queries: total,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      byTransport, byRcode, bySource: { ...this.bySource },
      dropped: this.dropped, tsigFailures: this.tsigFailures,
      latencyMs: { p50: ms(this.quantile(0.5)), p90: ms(this.quantile(0.9)), p99: ms(this.quantile(0.99)) },
    };
  }
}
