/** What the admin API sends, as far as the page reads it. */
export interface Stats {
  queries: number;
  qps: number;
  uptimeSeconds: number;
  byTransport: Record<string, number>;
  byRcode: Record<string, number>;
  bySource: Record<string, number>;
  refused: number;
  dropped: number;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null };
  topNames: Array<{ name: string; count: number }>;
  topClients: Array<{ client: string; name: string | null; count: number }>;
  topEstimated: boolean;
  cacheHitRatio?: number;
}

export interface QueryEvent {
  client: string;
  clientName: string | null;
  transport: string;
  name: string;
  type: string;
  rcode: string | null;
  source: string;
  route: string;
  cacheAgeS: number | null;
  upstream: string | null;
  uplink: string | null;
  ms: number;
  /** when the page got it */
  at?: number;
}

export interface Transition {
  uplink: string;
  from: string;
  to: string;
  at: number;
  reason: string;
}

export interface Sample {
  at: number;
  qps: Record<string, number>;
  sources: Record<string, number>;
  uplinks: Array<{ name: string; state: string; selected: boolean; rttMs: number | null; loss: number | null }>;
  queueing: Array<{ uplink: string; direction: 'up' | 'down'; rate: number | null; throughput: number | null }>;
}
