/**
 * What the resolver hands to the DDNS room, without knowing it: UPDATE messages, and zone
 * transfers asked over a stream (TCP, DoT). The resolver has checked a transfer's TSIG already
 * and signs the messages it gets back.
 */
import type { Buffer } from 'node:buffer';
import type { ParsedQuery } from '../dns/query.js';
import type { TsigCheck } from '../dns/tsig.js';
import type { ClientInfo, Reply } from './query-context.js';

export interface ZoneService {
  /** An UPDATE (opcode 5): the reply (signed as the request was), or null to drop. */
  update(message: Buffer, client: ClientInfo): Reply;
  /** AXFR/IXFR: the messages, unsigned; undefined to let the rules refuse it. */
  transfer(query: Buffer, q: ParsedQuery, client: ClientInfo, tsig: TsigCheck | null): Buffer[] | undefined;
}
