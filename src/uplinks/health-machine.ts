/**
 * One uplink's health with hysteresis, driven by probe rounds and carrier changes; time comes
 * in as arguments, so tests drive it without sleeping.
 *
 * - up → degraded on a failed round, → down after `downAfter` failed rounds in a row;
 *   degraded → up on a good round.
 * - carrier lost → down at once (the kernel shows it within ~10 ms; probes would take seconds).
 * - down → up after `upAfter` good rounds in a row *and* `holdDown` since the last failure seen
 *   (a failed round, or the moment carrier came back), so a link that keeps flapping stays down.
 * - the first round decides the starting state directly: no hysteresis before anything is known.
 * - stable: up for at least `minUp` (uplinks up since start count as stable).
 */
export type UplinkState = 'up' | 'degraded' | 'down';

export interface HealthSettings {
  downAfter: number;
  upAfter: number;
  holdDownMs: number;
  minUpMs: number;
}

export interface Transition {
  uplink: string;
  from: UplinkState;
  to: UplinkState;
  /** ms since the epoch */
  at: number;
  reason: string;
}

export class HealthMachine {
  state: UplinkState = 'up';
  since: number;
  reason = 'starting: up until the first probe round says otherwise';
  /** times it went down after being up */
  flaps = 0;
  private failsInRow = 0;
  private goodInRow = 0;
  private lastFailAt = -Infinity;
  private upSince: number;
  private first = true;
  private carrierUp = true;

  constructor(readonly name: string, private readonly s: HealthSettings, now: number) {
    this.since = now;
    this.upSince = now - s.minUpMs; // up since start: stable at once
  }

  isHealthy(): boolean {
    return this.state !== 'down';
  }

  isStable(now: number): boolean {
    return this.state !== 'down' && now - this.upSince >= this.s.minUpMs;
  }

  /** ms until hold-down lets a down uplink come back (0 when it would not hold it). */
  holdDownLeft(now: number): number {
    return this.state === 'down' ? Math.max(0, this.lastFailAt + this.s.holdDownMs - now) : 0;
  }

  /** A probe round finished: `ok` when enough targets answered; `why` says what failed. */
  round(ok: boolean, why: string, now: number): Transition | null {
    if (!this.carrierUp) return null; // probes cannot bring back a link without carrier
    if (this.first) {
      this.first = false;
      if (!ok) {
        this.lastFailAt = now;
        this.failsInRow = this.s.downAfter;
        const t = this.move('down', `first probe round failed: ${why}`, now);
        this.flaps = 0; // never up, so not a flap
        return t;
      }
      this.reason = 'first probe round answered';
      return null;
    }
    if (ok) {
      this.failsInRow = 0;
      if (this.state === 'degraded') return this.move('up', 'probes answer again', now);
      if (this.state === 'down') {
        this.goodInRow++;
        if (this.goodInRow >= this.s.upAfter && now - this.lastFailAt >= this.s.holdDownMs) {
          return this.move('up', `${this.goodInRow} good rounds in a row, hold-down ${this.s.holdDownMs / 1000}s passed`, now);
        }
      }
      return null;
    }
    this.goodInRow = 0;
    this.lastFailAt = now;
    if (this.state === 'down') return null;
    this.failsInRow++;
    if (this.failsInRow >= this.s.downAfter) return this.move('down', `${this.failsInRow} consecutive failed rounds: ${why}`, now);
    return this.move('degraded', `${this.failsInRow} of ${this.s.downAfter} rounds failed: ${why}`, now);
  }

  /** The interface's carrier changed (or was read at start). */
  carrier(up: boolean, iface: string, now: number): Transition | null {
    if (up === this.carrierUp) return null;
    this.carrierUp = up;
    if (up) {
      this.goodInRow = 0;
      this.lastFailAt = now; // it failed until now: hold-down counts from its return
      this.reason = `carrier back on ${iface}; waiting for ${this.s.upAfter} good rounds and hold-down`;
      return null;
    }
    this.first = false;
    this.goodInRow = 0;
    this.failsInRow = this.s.downAfter;
    this.lastFailAt = now;
    return this.state === 'down' ? null : this.move('down', `carrier lost on ${iface}`, now);
  }

  private move(to: UplinkState, reason: string, now: number): Transition | null {
    const from = this.state;
    this.reason = reason;
    if (from === to) return null;
    if (to === 'down' && from !== 'down') this.flaps++;
    if (to === 'up' && from === 'down') this.upSince = now;
    this.state = to;
    this.since = now;
    return { uplink: this.name, from, to, at: now, reason };
  }
}
