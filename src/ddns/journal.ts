/**
 * Every acknowledged UPDATE survives a restart, and a `kill -9`: each message's RRset changes
 * are one JSON line, written and fdatasync'ed before its reply goes out. Messages that arrive
 * in the same event-loop turn share one write and one sync (group commit), which is what makes
 * thousands of updates a second possible. A snapshot (`<journal>.snapshot`, replaced
 * atomically) takes the journal's place when it grows; a torn last line (a crash mid-write, so
 * never acknowledged) is skipped on load and counted.
 */
import { closeSync, existsSync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import type { RRsetChange } from './update-engine.js';

/** Lines after which the journal is folded into the snapshot. */
const COMPACT_AFTER = 20_000;

interface Line {
  serial: number;
  changes: RRsetChange[];
}

export interface Loaded {
  /** the changes in the order they were acknowledged (the snapshot's first) */
  batches: RRsetChange[][];
  serial: number;
  skipped: number;
}

export class Journal {
  private fd = -1;
  private lines = 0;
  /** bytes on disk that are whole lines: a failed write is cut back to here */
  private size = 0;
  private queue: Array<{ text: string; done: (err?: Error) => void }> = [];
  private scheduled = false;
  /** the whole dynamic zone, asked for when the journal is folded into a snapshot */
  snapshotSource: (() => RRsetChange[]) | null = null;
  lastSerial = 0;

  constructor(readonly path: string) {}

  load(): Loaded {
    mkdirSync(dirname(this.path), { recursive: true });
    const batches: RRsetChange[][] = [];
    let serial = 0;
    let skipped = 0;
    const snap = `${this.path}.snapshot`;
    if (existsSync(snap)) {
      const s = JSON.parse(readFileSync(snap, 'utf8')) as Line;
      batches.push(s.changes);
      serial = s.serial;
    }
    if (existsSync(this.path)) {
      for (const text of readFileSync(this.path, 'utf8').split('\n')) {
        if (text === '') continue;
        try {
          const l = JSON.parse(text) as Line;
          if (!Array.isArray(l.changes) || typeof l.serial !== 'number') throw new Error('not a journal line');
          batches.push(l.changes);
          serial = Math.max(serial, l.serial);
          this.lines++;
        } catch {
          skipped++;
        }
      }
    }
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
    this.lastSerial = serial;
    return { batches, serial, skipped };
  }

  /** Resolves once the line is on disk; rejects (e.g. ENOSPC) when it could not be written. */
  append(changes: RRsetChange[], serial: number): Promise<void> {
    this.lastSerial = Math.max(this.lastSerial, serial);
    return new Promise((resolve, reject) => {
      this.queue.push({ text: `${JSON.stringify({ serial, changes } satisfies Line)}\n`, done: (e) => (e ? reject(e) : resolve()) });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const text = batch.map((b) => b.text).join('');
    try {
      writeSync(this.fd, text);
      fdatasyncSync(this.fd);
      this.lines += batch.length;
      this.size += Buffer.byteLength(text);
    } catch (err) {
      try {
        ftruncateSync(this.fd, this.size); // no torn line in front of the next write
      } catch { /* the load skips a torn line anyway */ }
      for (const b of batch) b.done(err as Error);
      return;
    }
    for (const b of batch) b.done();
    if (this.lines >= COMPACT_AFTER && this.snapshotSource !== null) this.compact(this.snapshotSource());
  }

  /** Fold everything into the snapshot and start an empty journal. */
  compact(all: RRsetChange[]): void {
    writeFileAtomic(`${this.path}.snapshot`, JSON.stringify({ serial: this.lastSerial, changes: all } satisfies Line));
    ftruncateSync(this.fd, 0);
    this.lines = 0;
    this.size = 0;
  }

  close(): void {
    if (this.queue.length > 0) this.flush();
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
