/**
 * NOTIFY (RFC 1996) to the configured secondaries when a zone's serial changes: one UDP
 * message per zone and secondary, resent every 2 s (up to 5 times) until the secondary answers
 * with the same ID. Changes that come in a burst are told once, 200 ms after the first.
 */
import { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import { CLASS_IN, Opcode, RRType } from '../dns/constants.js';
import { encodeName } from '../dns/name.js';

const RETRY_MS = 2000;
const TRIES = 5;
const BURST_MS = 200;

export interface NotifyStats {
  sent: number;
  answered: number;
  failed: number;
}

export function notifyMessage(id: number, zone: string): Buffer {
  const name = encodeName(zone);
  const m = Buffer.alloc(12 + name.length + 4);
  m.writeUInt16BE(id, 0);
  m[2] = (Opcode.NOTIFY << 3) | 0x04; // AA
  m.writeUInt16BE(1, 4);
  name.copy(m, 12);
  m.writeUInt16BE(RRType.SOA, 12 + name.length);
  m.writeUInt16BE(CLASS_IN, 14 + name.length);
  return m;
}

export class Notifier {
  readonly stats: NotifyStats = { sent: 0, answered: 0, failed: 0 };
  private readonly waiting = new Map<number, { timer: NodeJS.Timeout }>();
  private readonly due = new Set<string>();
  private burst: NodeJS.Timeout | null = null;
  private sockets: { v4?: dgram.Socket; v6?: dgram.Socket } = {};

  constructor(private targets: Array<{ address: string; port: number }>, private readonly log: Logger) {}

  setTargets(t: Array<{ address: string; port: number }>): void {
    this.targets = t;
  }

  /** The zones whose serial changed. */
  changed(zones: string[]): void {
    if (this.targets.length === 0) return;
    for (const z of zones) this.due.add(z);
    this.burst ??= setTimeout(() => {
      this.burst = null;
      const zones = [...this.due];
      this.due.clear();
      for (const z of zones) for (const t of this.targets) this.send(z, t, 1);
    }, BURST_MS);
  }

  private socket(v6: boolean): dgram.Socket {
    const key = v6 ? 'v6' : 'v4';
    let s = this.sockets[key];
    if (s === undefined) {
      s = dgram.createSocket(v6 ? 'udp6' : 'udp4');
      s.on('message', (msg) => {
        if (msg.length < 12 || (msg[2] & 0x80) === 0) return;
        const w = this.waiting.get(msg.readUInt16BE(0));
        if (w === undefined) return;
        clearTimeout(w.timer);
        this.waiting.delete(msg.readUInt16BE(0));
        this.stats.answered++;
      });
      s.on('error', (err) => this.log.warn({ err }, 'NOTIFY socket error'));
      s.unref();
      this.sockets[key] = s;
    }
    return s;
  }

  private send(zone: string, t: { address: string; port: number }, attempt: number): void {
    let id = randomInt(0, 65536);
    while (this.waiting.has(id)) id = randomInt(0, 65536);
    const sock = this.socket(isIPv6(t.address));
    sock.send(notifyMessage(id, zone), t.port, t.address, (err) => {
      if (err) this.log.warn({ err, zone, secondary: t.address }, 'NOTIFY not sent');
    });
    this.stats.sent++;
    const timer = setTimeout(() => {
      this.waiting.delete(id);
      if (attempt < TRIES) this.send(zone, t, attempt + 1);
      else {
        this.stats.failed++;
        this.log.warn({ zone, secondary: `${t.address}:${t.port}` }, 'secondary did not answer NOTIFY');
      }
    }, RETRY_MS);
    timer.unref();
    this.waiting.set(id, { timer });
  }

  close(): void {
    if (this.burst) clearTimeout(this.burst);
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
    this.sockets.v4?.close();
    this.sockets.v6?.close();
    this.sockets = {};
  }
}
