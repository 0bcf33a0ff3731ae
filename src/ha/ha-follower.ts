/**
 * HA: the backup follows the master's dynamic zone (names RFC 2136 clients gave the master,
 * which Kea's lease files do not carry), so they do not vanish on takeover. While this gateway
 * does not publish, it reads the peer's `GET /ddns/dynamic` (its admin API, with our own admin
 * token: give the pair one token file) every `interval`, and when the peer's serial moved,
 * becomes that dynamic layer (the difference journaled here, as an UPDATE would be). A master
 * does not follow: the LAN's updates come to it.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { arr, int, JsonShapeError, obj, str } from '../json-shape.js';

const rrset = obj({
  owner: str({ min: 1, max: 255 }),
  type: str({ pattern: /^[A-Z0-9]{1,10}$/ }),
  records: arr(obj({ ttl: int(0, 2 ** 31), value: str({ max: 65535 }) }, true)),
}, true);
const dynamicView = obj({ serial: int(), rrsets: arr(rrset) });

export type ReplicatedRRset = ReturnType<typeof rrset>;

/** What the follower needs of the dynamic zone (the DDNS room's, handed in by the root). */
export interface DynamicZonePort {
  replicate(rrsets: ReplicatedRRset[]): Promise<number>;
}

export interface FollowerView {
  peer: string;
  /** reading the peer now (this gateway is not the one publishing) */
  following: boolean;
  /** the peer's serial when last read */
  peerSerial: number | null;
  /** the peer's serial whose zone this gateway holds */
  appliedSerial: number | null;
  /** false when the last read found the peer ahead of what is applied (or it could not be read) */
  inStep: boolean;
  lastSync: string | null;
  applied: number;
  error: string | null;
}

export class HaFollower {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private peerSerial: number | null = null;
  private appliedSerial: number | null = null;
  private lastSync: string | null = null;
  private applied = 0;
  private error: string | null = null;

  constructor(
    private readonly peer: string, private readonly intervalMs: number, private readonly token: () => string | undefined,
    private readonly zone: () => DynamicZonePort | null, private readonly clock: Clock, private readonly log: Logger,
  ) {}

  /** Follow while `on` (this gateway is not the one publishing). */
  setFollowing(on: boolean): void {
    if (on && this.timer === null) {
      this.timer = setInterval(() => void this.poll(), this.intervalMs);
      this.timer.unref();
      void this.poll();
    } else if (!on && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private async poll(): Promise<void> {
    const zone = this.zone();
    if (this.busy || zone === null) return;
    this.busy = true;
    try {
      const token = this.token();
      const res = await fetch(new URL('/ddns/dynamic', this.peer), {
        headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(Math.max(1000, this.intervalMs * 2)),
      });
      if (res.status !== 200) throw new Error(`${this.peer}: HTTP ${res.status}`);
      const view = dynamicView(await res.json(), '');
      this.peerSerial = view.serial;
      if (view.serial !== this.appliedSerial) {
        const n = await zone.replicate(view.rrsets);
        this.appliedSerial = view.serial;
        this.applied += n;
        if (n > 0) this.log.info({ peer: this.peer, serial: view.serial, rrsets: n }, 'ha: the peer\'s dynamic zone followed');
      }
      this.lastSync = new Date(this.clock.now()).toISOString();
      if (this.error !== null) this.log.info({ peer: this.peer }, 'ha: the peer answers again');
      this.error = null;
    } catch (e) {
      const msg = e instanceof JsonShapeError ? `${this.peer}: not a dynamic zone (${e.message})` : (e as Error).message;
      if (this.error === null) this.log.warn({ peer: this.peer, err: msg }, 'ha: cannot follow the peer\'s dynamic zone');
      this.error = msg;
    } finally {
      this.busy = false;
    }
  }

  view(): FollowerView {
    return {
      peer: this.peer, following: this.timer !== null, peerSerial: this.peerSerial, appliedSerial: this.appliedSerial,
      inStep: this.error === null && this.peerSerial !== null && this.peerSerial === this.appliedSerial,
      lastSync: this.lastSync, applied: this.applied, error: this.error,
    };
  }

  stop(): void {
    this.setFollowing(false);
  }
}
