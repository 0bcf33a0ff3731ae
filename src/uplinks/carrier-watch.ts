/**
 * Carrier (link) state of the uplink interfaces: `ip -o monitor link` wakes us within ~10 ms of
 * a change, and /sys/class/net/IF/carrier says what the state is. A poll every second covers a
 * monitor that died or an `ip` that is missing. An interface that is absent or set down reads as
 * no carrier.
 */
import { readFileSync } from 'node:fs';
import { ipMonitor, type IpMonitor } from '../host/ip-monitor.js';

export function readCarrier(iface: string): boolean {
  try {
    return readFileSync(`/sys/class/net/${iface}/carrier`, 'latin1').trim() === '1';
  } catch {
    return false; // ENOENT: no such interface; EINVAL: administratively down
  }
}

export class CarrierWatch {
  private readonly state = new Map<string, boolean>();
  private monitor: IpMonitor | null = null;
  private poll: NodeJS.Timeout | null = null;

  constructor(ifaces: string[], private readonly onChange: (iface: string, up: boolean) => void, private readonly pollMs = 1000) {
    for (const i of ifaces) this.state.set(i, readCarrier(i));
  }

  carrier(iface: string): boolean {
    return this.state.get(iface) ?? false;
  }

  start(): void {
    this.poll = setInterval(() => this.check(), this.pollMs);
    this.poll.unref();
    this.monitor = ipMonitor('link', () => this.check());
  }

  /** Re-read every interface and report the ones that changed. */
  check(): void {
    for (const [iface, was] of this.state) {
      const now = readCarrier(iface);
      if (now !== was) {
        this.state.set(iface, now);
        this.onChange(iface, now);
      }
    }
  }

  stop(): void {
    if (this.poll) clearInterval(this.poll);
    this.monitor?.stop();
    this.monitor = null;
  }
}
