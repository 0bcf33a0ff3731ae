/**
 * What the admin API may see of the resolver, and the one thing it may do (flush the cache):
 * counters, the cache's numbers, the records served with authority, the upstreams' state, and
 * the heaviest names and clients. Read-only otherwise, but for the live feed's query tap.
 */
import type { CacheStats } from '../cache/packet-cache.js';
import type { UpstreamStats } from '../upstream/upstream-group.js';
import type { ZoneRecord } from '../zone/records.js';
import type { QueryEntry } from './query-log.js';
import type { QueryStats } from './query-stats.js';

export interface ResolverView {
  readonly stats: Readonly<Pick<QueryStats, 'byTransportRcode' | 'bySource' | 'dropped' | 'tsigFailures' | 'latency' | 'latencySum' | 'snapshot'>>;
  /** Questions that joined an identical one already on its way upstream. */
  readonly coalesced: number;
  cacheStats(): CacheStats;
  /** Drop the whole cache, or every answer for one name (dotted); returns how many went. */
  flushCache(name?: string): number;
  zone(): { domain: string; records: ZoneRecord[] };
  /** The name the zone gives an address (its PTR), for top clients. */
  nameOf(address: string): string | undefined;
  upstreamStats(): UpstreamStats[];
  topNames(n: number): Array<{ name: string; count: number }>;
  topClients(n: number): Array<{ client: string; count: number }>;
  topEstimated(): boolean;
  /** The live feed's tap on every answered query (null: off, the query path pays one check). */
  queryTap: ((e: QueryEntry) => void) | null;
}
