/** What one query carries through the pipeline. */
import type { Buffer } from 'node:buffer';
import type { Protocol } from '../config/types.js';
import type { ParsedQuery } from '../dns/query.js';
import type { AnswerSource } from './query-stats.js';
import type { Route } from './router.js';
import type { PendingReply } from './pending-reply.js';

export interface ClientInfo {
  address: string;
  transport: Protocol;
  /** Largest reply the transport carries: 0 = UDP (the client's EDNS size, else 512). */
  maxSize: number;
  /** RFC 8467 padding block for encrypted transports; 0 = none. */
  padBlock: number;
}

export interface QueryContext {
  query: Buffer;
  q: ParsedQuery;
  client: ClientInfo;
  /** Bytes the reply may take. */
  maxSize: number;
  route: Route | undefined;
  source: AnswerSource;
  /**
   * performance.now() when the answer turned out to need I/O (a stage returned a PendingReply), or 0
   * for answers made synchronously, which cost microseconds and are not timed (a clock read
   * would cost more than the rest of a cache hit's bookkeeping).
   */
  startedAt: number;
  /** the upstream that answered, for the query log */
  upstream?: string;
  /** the uplink it came through (multi-WAN), for the query log */
  uplink?: string;
  /** 0 for a client's question; 1+ for a CNAME target followed on its behalf */
  depth: number;
}

/** A reply, null for "send nothing", or a PendingReply of either when it needs an upstream. */
export type Reply = Buffer | null | PendingReply;
/** What a stream may get besides: the messages of a zone transfer, in order. */
export type StreamReply = Reply | Buffer[];
/** A stage answers (Reply) or passes the query on (undefined). */
export type StageResult = Reply | undefined;

export interface Stage {
  handle(ctx: QueryContext): StageResult;
}
