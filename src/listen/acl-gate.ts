/**
 * The one ACL gate every listener asks: the decision for a packet (UDP) or a connection (TCP,
 * DoT, DoH), with drops counted here per transport, and refusals (a REFUSED answer, or HTTP 403
 * over DoH) counted per query. A reload swaps the rules; the counters stay.
 */
import type { AclAction, AclRule, Protocol } from '../config/types.js';
import { Acl } from './acl.js';

export type TransportCounts = Record<Protocol, number>;

const zero = (): TransportCounts => ({ udp: 0, tcp: 0, dot: 0, doh: 0 });

export class AclGate {
  readonly dropped = zero();
  readonly refused = zero();
  private acl: Acl;

  constructor(rules: AclRule[]) {
    this.acl = new Acl(rules);
  }

  reconfigure(rules: AclRule[]): void {
    this.acl = new Acl(rules);
  }

  /** allow | refuse | drop for this source; a drop is counted. */
  check(address: string, transport: Protocol): AclAction {
    const action = this.acl.check(address);
    if (action === 'drop') this.dropped[transport]++;
    return action;
  }

  /** A query the ACL refused was answered (REFUSED, or 403 over DoH). */
  countRefused(transport: Protocol): void {
    this.refused[transport]++;
  }

  snapshot(): { dropped: TransportCounts; refused: TransportCounts } {
    return { dropped: { ...this.dropped }, refused: { ...this.refused } };
  }
}
