/** Plain counters the hot path increments; everything derived (rates, labels) is computed when read. */
import type { Protocol } from '../config/types.js';
import { RCODE_NAMES } from '../dns/constants.js';

export type AnswerSource = 'local' | 'cache' | 'upstream' | 'stale' | 'error';

export class QueryStats {
  readonly byTransport: Record<Protocol, number> = { udp: 0, tcp: 0, dot: 0, doh: 0 };
  readonly byRcode = new Float64Array(32);
  readonly bySource: Record<AnswerSource, number> = { local: 0, cache: 0, upstream: 0, stale: 0, error: 0 };
  refused = 0;
  dropped = 0;

  snapshot() {
    const rcodes: Record<string, number> = {};
    this.byRcode.forEach((n, i) => { if (n > 0) rcodes[RCODE_NAMES[i] ?? `RCODE${i}`] = n; });
    return { byTransport: { ...this.byTransport }, byRcode: rcodes, bySource: { ...this.bySource }, refused: this.refused, dropped: this.dropped };
  }
}
