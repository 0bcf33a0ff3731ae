/**
 * FQ-CoDel (RFC 8290), pure and clock-injected: packets are hashed by flow into `flows` queues,
 * each with its own CoDel state; a deficit round robin with a `quantum` serves new flows (those
 * that just became active: sparse ones such as a call's audio or DNS) before old (bulk) ones.
 * When the total exceeds `limit` packets, the fattest flow loses packets from its head.
 */
import { CodelState, DEFAULT_CODEL, PacketFifo, type AqmPacket, type CodelParams, type CodelStats } from './codel.js';

export interface FqCodelParams extends CodelParams {
  flows: number;
  /** bytes a flow may send per round */
  quantum: number;
  /** packets in all queues together */
  limit: number;
}

export const DEFAULT_FQ_CODEL: FqCodelParams = { ...DEFAULT_CODEL, flows: 1024, quantum: 1514, limit: 10_240 };

interface Flow {
  fifo: PacketFifo;
  codel: CodelState;
  deficit: number;
  /** which list it is on, if any */
  list: 'new' | 'old' | null;
}

export class FqCodel {
  private readonly p: FqCodelParams;
  private readonly flows: Flow[];
  private readonly newFlows: Flow[] = [];
  private readonly oldFlows: Flow[] = [];
  private packets = 0;
  readonly stats: CodelStats & { overlimit: number } = { drops: 0, marks: 0, overlimit: 0 };

  constructor(params: Partial<FqCodelParams> = {}) {
    this.p = { ...DEFAULT_FQ_CODEL, ...params };
    this.flows = Array.from({ length: this.p.flows }, () => ({ fifo: new PacketFifo(), codel: new CodelState(this.p), deficit: 0, list: null }));
  }

  get length(): number {
    return this.packets;
  }

  /** Flow → queue. A real dataplane hashes the 5-tuple with a per-boot salt; ids here are already flows. */
  private flowOf(pkt: AqmPacket): Flow {
    return this.flows[((pkt.flow % this.p.flows) + this.p.flows) % this.p.flows];
  }

  enqueue(pkt: AqmPacket, now: number, onDrop: (p: AqmPacket) => void = () => undefined): void {
    const f = this.flowOf(pkt);
    pkt.enqueuedAt = now;
    f.fifo.push(pkt);
    this.packets++;
    if (f.list === null) {
      f.list = 'new';
      f.deficit = this.p.quantum;
      this.newFlows.push(f);
    }
    if (this.packets > this.p.limit) {
      // RFC 8290 §4.1.2: drop from the head of the flow with the largest backlog
      let fat = this.flows[0];
      for (const x of this.flows) if (x.fifo.bytes > fat.fifo.bytes) fat = x;
      const dropped = fat.fifo.shift();
      if (dropped) {
        this.packets--;
        this.stats.drops++;
        this.stats.overlimit++;
        onDrop(dropped);
      }
    }
  }

  dequeue(now: number, onDrop: (p: AqmPacket) => void = () => undefined): AqmPacket | null {
    for (;;) {
      const fromNew = this.newFlows.length > 0;
      const list = fromNew ? this.newFlows : this.oldFlows;
      const f = list[0];
      if (f === undefined) return null;
      if (f.deficit <= 0) {
        f.deficit += this.p.quantum;
        list.shift();
        f.list = 'old';
        this.oldFlows.push(f);
        continue;
      }
      const before = f.fifo.length;
      const pkt = f.codel.dequeue(f.fifo, now, this.stats, onDrop);
      this.packets -= before - f.fifo.length;
      if (pkt === null) {
        list.shift();
        // §4.2: an emptied new flow goes to the old list, so it cannot hop back to new at once
        if (fromNew && this.oldFlows.length > 0) {
          f.list = 'old';
          this.oldFlows.push(f);
        } else {
          f.list = null;
        }
        continue;
      }
      f.deficit -= pkt.size;
      return pkt;
    }
  }
}
