/**
 * This gateway's VRRP role, as keepalived's notify script last told it (`edgedns ha set`, which
 * writes the state file). inotify on the file's folder wakes us within milliseconds; a 1 s poll
 * covers a folder that cannot be watched. Until the file says otherwise the role is `unknown`,
 * and an unknown gateway publishes nothing that must have one owner: keepalived calls notify
 * with the starting state right away, and two owners of the NAT and the policy routes is the
 * failure HA exists to avoid.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { systemHost, type HostPort } from '../host/host-port.js';
import type { HaSettings } from './ha-section.js';
import { parseHaState, type HaRoleName, type HaState } from './ha-state.js';

const POLL_MS = 1000;

export class HaRole {
  private state: HaState = { role: 'unknown', since: null };
  /** when this process saw the role change (the file's own time may be older) */
  private seenAt: string | null = null;
  changes = 0;
  private watcher: FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(role: HaRoleName) => void>();

  constructor(readonly settings: HaSettings, private readonly clock: Clock, private readonly log: Logger, private readonly host: HostPort = systemHost) {}

  get role(): HaRoleName {
    return this.state.role;
  }

  /** Only the master publishes the host-side state that must have one owner. */
  get publishing(): boolean {
    return this.state.role === 'master';
  }

  start(): void {
    this.read(true);
    try {
      const name = basename(this.settings.stateFile);
      this.watcher = watch(dirname(this.settings.stateFile), (_event, file) => {
        if (file === null || file === name || file.startsWith(`.${name}.`)) this.read(false);
      });
      this.watcher.on('error', () => { this.watcher?.close(); this.watcher = null; });
    } catch { /* no folder yet: the poll finds the file once `ha set` makes it */ }
    this.poll = setInterval(() => this.read(false), POLL_MS);
    this.poll.unref();
  }

  onChange(cb: (role: HaRoleName) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private read(first: boolean): void {
    const next = parseHaState(this.host.read(this.settings.stateFile));
    if (next.role === this.state.role && next.since === this.state.since) return;
    const from = this.state.role;
    this.state = next;
    if (next.role === from) return; // the same role written again
    this.seenAt = new Date(this.clock.now()).toISOString();
    this.changes++;
    this.log[next.role === 'master' || first ? 'info' : 'warn']({ from, to: next.role, file: this.settings.stateFile }, `ha role ${next.role}`);
    for (const cb of this.listeners) cb(next.role);
  }

  view(): { role: HaRoleName; since: string | null; seenAt: string | null; changes: number; stateFile: string } {
    return { role: this.state.role, since: this.state.since, seenAt: this.seenAt, changes: this.changes, stateFile: this.settings.stateFile };
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.poll) clearInterval(this.poll);
    this.listeners.clear();
  }
}
