/**
 * CoDel (RFC 8289), pure and clock-injected: the caller passes `now` (ms) to every call. State
 * variables as the RFC names them: first_above_time, drop_next, count, lastcount, dropping.
 * With `ecn`, a packet that would be dropped and is ECN-capable is marked CE and delivered.
 */
export interface AqmPacket {
  /** bytes */
  size: number;
  /** flow identity (FQ-CoDel hashes it) */
  flow: number;
  /** ECN-capable transport */
  ect?: boolean;
  /** set when CoDel marked it CE */
  ce?: boolean;
  /** ms, set on enqueue */
  enqueuedAt?: number;
}

export interface CodelParams {
  /** ms */
  target: number;
  /** ms */
  interval: number;
  ecn: boolean;
  /** largest packet, bytes: a queue holding no more than this never drops */
  mtu: number;
}

export const DEFAULT_CODEL: CodelParams = { target: 5, interval: 100, ecn: true, mtu: 1514 };

export interface CodelStats {
  drops: number;
  marks: number;
}

/** The CoDel state of one queue; the packets themselves live in a `PacketFifo`. */
export class CodelState {
  firstAboveTime = 0;
  dropNext = 0;
  count = 0;
  lastcount = 0;
  dropping = false;

  constructor(private readonly p: CodelParams) {}

  private controlLaw(t: number, count: number): number {
    return t + this.p.interval / Math.sqrt(count);
  }

  private doDequeue(q: PacketFifo, now: number): { pkt: AqmPacket | null; okToDrop: boolean } {
    const pkt = q.shift();
    if (pkt === null) {
      this.firstAboveTime = 0;
      return { pkt: null, okToDrop: false };
    }
    const sojourn = now - pkt.enqueuedAt!;
    let okToDrop = false;
    if (sojourn < this.p.target || q.bytes <= this.p.mtu) {
      this.firstAboveTime = 0;
    } else if (this.firstAboveTime === 0) {
      this.firstAboveTime = now + this.p.interval;
    } else if (now >= this.firstAboveTime) {
      okToDrop = true;
    }
    return { pkt, okToDrop };
  }

  /** Marks instead of dropping when it may; true when the packet is still to be delivered. */
  private signal(pkt: AqmPacket, stats: CodelStats, onDrop: (p: AqmPacket) => void): boolean {
    if (this.p.ecn && pkt.ect) {
      pkt.ce = true;
      stats.marks++;
      return true;
    }
    stats.drops++;
    onDrop(pkt);
    return false;
  }

  dequeue(q: PacketFifo, now: number, stats: CodelStats, onDrop: (p: AqmPacket) => void = () => undefined): AqmPacket | null {
    let r = this.doDequeue(q, now);
    if (r.pkt === null) {
      this.dropping = false;
      return null;
    }
    if (this.dropping) {
      if (!r.okToDrop) {
        this.dropping = false;
      } else {
        while (now >= this.dropNext && this.dropping) {
          this.count++;
          if (this.signal(r.pkt!, stats, onDrop)) {
            this.dropNext = this.controlLaw(this.dropNext, this.count);
            return r.pkt;
          }
          r = this.doDequeue(q, now);
          if (!r.okToDrop || r.pkt === null) this.dropping = false;
          else this.dropNext = this.controlLaw(this.dropNext, this.count);
        }
      }
    } else if (r.okToDrop) {
      const delivered = this.signal(r.pkt!, stats, onDrop);
      const kept = delivered ? r.pkt : null;
      if (!delivered) r = this.doDequeue(q, now);
      this.dropping = true;
      const delta = this.count - this.lastcount;
      this.count = delta > 1 && now - this.dropNext < 16 * this.p.interval ? delta : 1;
      this.dropNext = this.controlLaw(now, this.count);
      this.lastcount = this.count;
      if (kept) return kept;
    }
    return r.pkt;
  }
}

/** A byte-counting FIFO of packets (array with a moving head: no per-packet allocation but the packet). */
export class PacketFifo {
  private items: AqmPacket[] = [];
  private head = 0;
  bytes = 0;

  push(p: AqmPacket): void {
    this.items.push(p);
    this.bytes += p.size;
  }

  shift(): AqmPacket | null {
    if (this.head >= this.items.length) return null;
    const p = this.items[this.head++];
    this.bytes -= p.size;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return p;
  }

  get length(): number {
    return this.items.length - this.head;
  }
}

/** One CoDel queue (RFC 8289 §5), as a single-queue AQM. */
export class CodelQueue {
  readonly fifo = new PacketFifo();
  readonly state: CodelState;
  readonly stats: CodelStats = { drops: 0, marks: 0 };

  constructor(params: Partial<CodelParams> = {}, private readonly limit = 10_240) {
    this.state = new CodelState({ ...DEFAULT_CODEL, ...params });
  }

  enqueue(pkt: AqmPacket, now: number): boolean {
    if (this.fifo.length >= this.limit) {
      this.stats.drops++;
      return false;
    }
    pkt.enqueuedAt = now;
    this.fifo.push(pkt);
    return true;
  }

  dequeue(now: number, onDrop?: (p: AqmPacket) => void): AqmPacket | null {
    return this.state.dequeue(this.fifo, now, this.stats, onDrop);
  }
}
