/**
 * `log.queries: true`: one JSON line per query, buffered (pino on an asynchronous destination,
 * written in blocks) so the query path never waits on stdout. The client's name comes from the
 * local zone's PTR data (static records and leases) when it has one.
 */
import { pino, type Logger } from 'pino';
import { RCODE_NAMES } from '../dns/constants.js';
import { wireKeyToName } from '../dns/name.js';
import { typeName } from '../dns/type-names.js';
import type { LocalZone } from '../zone/local-zone.js';
import type { QueryContext } from './query-context.js';


/** Why a name went where it went: the zone, a special-use zone, a forward rule, or the default upstreams. */
function routeOf(ctx: QueryContext): string {
  const r = ctx.route;
  if (r === undefined) return 'default upstreams';
  if (r.kind === 'zone') return `local zone ${r.apex.name}`;
  if (r.kind === 'special') return `special-use zone ${r.zone.apex}`;
  return `forward ${r.domain}`;
}

/**
 * One query as the log line and the live feed (`/events`) show it. `cacheAgeS`: how long the
 * cached answer had been held (the live feed only; null when not from the cache).
 */
export function queryEntry(ctx: QueryContext, reply: Buffer | null, seconds: number, zone: LocalZone, cacheAgeS: number | null = null) {
  const rcode = reply === null ? null : reply[3] & 0x0f;
  return {
    client: ctx.client.address,
    clientName: zone.nameOf(ctx.client.address) ?? null,
    transport: ctx.client.transport,
    name: wireKeyToName(ctx.q.name) || '.',
    type: typeName(ctx.q.qtype),
    rcode: rcode === null ? null : RCODE_NAMES[rcode] ?? rcode,
    source: ctx.source,
    route: routeOf(ctx),
    cacheAgeS,
    upstream: ctx.upstream ?? null,
    uplink: ctx.uplink ?? null,
    ms: Math.round(seconds * 1e5) / 100,
  };
}

export type QueryEntry = ReturnType<typeof queryEntry>;

export class QueryLog {
  private readonly log: Logger;
  private readonly dest: ReturnType<typeof pino.destination>;
  private readonly timer: NodeJS.Timeout;

  constructor(fd = 1) {
    this.dest = pino.destination({ dest: fd, sync: false, minLength: 8192 });
    this.log = pino({ base: { name: 'edgedns' }, messageKey: 'msg' }, this.dest);
    // Blocks of 8 KB under load; at most half a second late when quiet.
    this.timer = setInterval(() => this.dest.flush(), 500);
    this.timer.unref();
  }

  write(ctx: QueryContext, reply: Buffer | null, seconds: number, zone: LocalZone): void {
    this.log.info({ query: queryEntry(ctx, reply, seconds, zone) }, 'query');
  }

  close(): void {
    clearInterval(this.timer);
    try {
      this.dest.flushSync();
    } catch { /* not ready yet: nothing buffered */ }
  }
}
