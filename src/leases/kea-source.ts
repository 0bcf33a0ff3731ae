/**
 * Following one Kea memfile lease file. Full state = `.completed` if present else `.2`, then
 * `.1`, then the live file, replayed in order; afterwards the live file is read incrementally
 * from the last offset (a partial last line waits for its newline). Kea's LFC renames the live
 * file (a new inode every `lfc-interval`), so the folder is watched and a new inode or a shorter
 * file means a full re-read. A full read retries until the set of files did not change under it,
 * so a rotation in the middle never loses or resurrects a name. Read failures change nothing:
 * they are counted, logged and retried.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { parseHeader, parseRow, type Columns, type LeaseFamily, type LeaseRow } from './kea-csv.js';
import { EdgeError } from '../errors.js';

export type SourceChange =
  | { kind: 'full'; table: Map<string, LeaseRow> }
  | { kind: 'rows'; rows: LeaseRow[] };

export interface SourceStats {
  path: string;
  health: 'ok' | 'missing' | 'error';
  error: string | null;
  lastRead: string | null;
  rowsRead: number;
  rowsSkipped: number;
  fullReads: number;
}

/** Lines longer than this cannot be lease rows. */
export const MAX_LINE = 64 * 1024;
const RETRY_MS = 2000;
const SAFETY_MS = 5000;
const LOG_SKIPS_PER_READ = 20;

class ReadProblem extends EdgeError<'LEASE_READ_FAILED' | 'LEASE_HEADER'> {}

export class KeaSource {
  readonly stats: SourceStats;
  private ino = -1;
  private offset = 0;
  private partial: Buffer = Buffer.alloc(0);
  private cols: Columns | null = null;
  private lineNo = 0;
  private needFull = true;
  private busy = false;
  private again = false;
  private closed = false;
  private watcher: FSWatcher | null = null;
  private timers: NodeJS.Timeout[] = [];
  private skipsLogged = 0;
  private discardingLine = false;

  constructor(
    readonly path: string,
    private readonly family: LeaseFamily,
    private readonly onChange: (c: SourceChange) => void,
    private readonly log: Logger,
  ) {
    this.stats = { path, health: 'missing', error: null, lastRead: null, rowsRead: 0, rowsSkipped: 0, fullReads: 0 };
  }

  start(): void {
    this.watchFolder();
    const safety = setInterval(() => {
      if (!this.watcher) this.watchFolder();
      this.kick();
    }, SAFETY_MS);
    safety.unref();
    this.timers.push(safety);
    this.kick();
  }

  private watchFolder(): void {
    try {
      const name = basename(this.path);
      this.watcher = watch(dirname(this.path), (_event, file) => {
        if (file === null || file.toString().startsWith(name)) this.kick();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null; // the folder went away; the safety timer re-watches
      });
    } catch {
      this.watcher = null; // no folder yet: retried by the safety timer
    }
  }

  /** Something may have changed: read, now or right after the read under way. */
  kick(full = false): void {
    if (full) this.needFull = true;
    if (this.closed) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    void this.drain();
  }

  /** Has the first read finished (rows, no file yet, or an error)? Until then the names are not known. */
  settled = false;
  onSettled: (() => void) | null = null;

  private async drain(): Promise<void> {
    try {
      do {
        this.again = false;
        if (this.needFull) await this.fullRead();
        else await this.tail();
      } while (this.again && !this.closed);
    } finally {
      this.busy = false;
      if (!this.settled) {
        this.settled = true;
        this.onSettled?.();
      }
    }
  }

  private fail(e: unknown): void {
    const msg = (e as Error).message;
    if (this.stats.error !== msg) this.log.error({ source: this.path, err: msg }, 'lease file read failed; names kept as they were, retrying');
    this.stats.health = 'error';
    this.stats.error = msg;
    this.needFull = true;
    const t = setTimeout(() => this.kick(), RETRY_MS);
    t.unref();
    this.timers.push(t);
  }

  private async inodes(): Promise<string> {
    const parts: string[] = [];
    for (const f of [`${this.path}.completed`, `${this.path}.2`, `${this.path}.1`, this.path]) {
      try {
        parts.push(String((await stat(f)).ino));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        parts.push('-');
      }
    }
    return parts.join(',');
  }

  private async fullRead(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      let before: string;
      try {
        before = await this.inodes();
      } catch (e) {
        return this.fail(e);
      }
      const [completed, two, one, live] = before.split(',');
      if (live === '-') {
        if (this.stats.health !== 'missing') this.log.warn({ source: this.path }, 'lease file not there (yet); waiting for Kea to write it');
        this.stats.health = 'missing';
        this.stats.error = null;
        return; // names stay as they were; the folder watch brings us back
      }
      const table = new Map<string, LeaseRow>();
      this.skipsLogged = 0;
      let liveBytes: Buffer;
      try {
        const base = completed !== '-' ? `${this.path}.completed` : two !== '-' ? `${this.path}.2` : null;
        for (const f of [base, one !== '-' ? `${this.path}.1` : null]) {
          if (f !== null) this.replay(f, await readFile(f), table, true);
        }
        liveBytes = await readFile(this.path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // rotated while reading: again
        return this.fail(e);
      }
      let after: string;
      try {
        after = await this.inodes();
      } catch (e) {
        return this.fail(e);
      }
      if (after !== before) continue; // LFC moved files under us: read the new set
      const cut = liveBytes.lastIndexOf(0x0a) + 1;
      try {
        this.lineNo = 0;
        this.cols = null;
        this.replay(this.path, liveBytes.subarray(0, cut), table, false);
      } catch (e) {
        return this.fail(e);
      }
      this.partial = Buffer.from(liveBytes.subarray(cut));
      this.offset = liveBytes.length;
      this.ino = Number(after.split(',')[3]);
      this.needFull = false;
      this.ok();
      this.stats.fullReads++;
      this.onChange({ kind: 'full', table });
      return;
    }
    this.fail(new ReadProblem('LEASE_READ_FAILED', `${this.path}: files kept changing during five full reads`));
  }

  /** Replay one file's complete lines into a table. `ownCounter`: line numbers local to this call. */
  private replay(file: string, bytes: Buffer, table: Map<string, LeaseRow>, ownCounter: boolean): void {
    const saved = { cols: this.cols, lineNo: this.lineNo };
    if (ownCounter) {
      this.cols = null;
      this.lineNo = 0;
    }
    for (const row of this.parseLines(file, bytes)) {
      if (row.validLifetime === 0) table.delete(row.address);
      else table.set(row.address, row);
    }
    if (ownCounter) {
      this.cols = saved.cols;
      this.lineNo = saved.lineNo;
    }
  }

  /** Complete lines → rows; the first line of a file is its header. */
  private parseLines(file: string, bytes: Buffer): LeaseRow[] {
    const rows: LeaseRow[] = [];
    let start = 0;
    while (start < bytes.length) {
      let end = bytes.indexOf(0x0a, start);
      if (end < 0) end = bytes.length;
      const raw = bytes.subarray(start, end);
      start = end + 1;
      this.lineNo++;
      if (raw.length > MAX_LINE) {
        this.skip(file, `line of ${raw.length} bytes is too long`);
        continue;
      }
      const line = raw.toString('utf8').replace(/\r$/, '');
      if (line === '') continue;
      if (this.cols === null) {
        const cols = parseHeader(line, this.family);
        if (typeof cols === 'string') throw new ReadProblem('LEASE_HEADER', `${file}:${this.lineNo}: ${cols}`);
        this.cols = cols;
        continue;
      }
      if (line.startsWith('address,')) continue; // a header repeated after a restart
      const row = parseRow(line, this.cols, this.family);
      if (typeof row === 'string') this.skip(file, row);
      else {
        rows.push(row);
        this.stats.rowsRead++;
      }
    }
    return rows;
  }

  private skip(file: string, reason: string): void {
    this.stats.rowsSkipped++;
    if (this.skipsLogged++ < LOG_SKIPS_PER_READ) this.log.warn({ source: file, line: this.lineNo }, `${file}:${this.lineNo}: lease row skipped: ${reason}`);
  }

  private ok(): void {
    if (this.stats.health !== 'ok') this.log.info({ source: this.path }, 'lease file read');
    this.stats.health = 'ok';
    this.stats.error = null;
    this.stats.lastRead = new Date().toISOString();
  }

  private async tail(): Promise<void> {
    let st;
    try {
      st = await stat(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.needFull = true; // mid-rotation: the new file appears within milliseconds
        const t = setTimeout(() => this.kick(), 20);
        t.unref();
        this.timers.push(t);
        return;
      }
      return this.fail(e);
    }
    if (st.ino !== this.ino || st.size < this.offset) {
      this.needFull = true;
      return this.fullRead();
    }
    if (st.size === this.offset) return;
    let chunk: Buffer;
    try {
      const fh = await open(this.path, 'r');
      try {
        chunk = Buffer.alloc(st.size - this.offset);
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, this.offset);
        chunk = chunk.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    } catch (e) {
      return this.fail(e);
    }
    this.offset += chunk.length;
    let data = this.partial.length > 0 ? Buffer.concat([this.partial, chunk]) : chunk;
    if (this.discardingLine) {
      const nl = data.indexOf(0x0a);
      if (nl < 0) { this.partial = Buffer.alloc(0); return; }
      data = data.subarray(nl + 1);
      this.discardingLine = false;
    }
    const cut = data.lastIndexOf(0x0a) + 1;
    this.partial = Buffer.from(data.subarray(cut));
    if (this.partial.length > MAX_LINE) {
      this.skip(this.path, `line longer than ${MAX_LINE} bytes`);
      this.partial = Buffer.alloc(0);
      this.discardingLine = true;
    }
    if (cut === 0) return;
    this.skipsLogged = 0;
    let rows: LeaseRow[];
    try {
      rows = this.parseLines(this.path, data.subarray(0, cut));
    } catch (e) {
      return this.fail(e);
    }
    this.ok();
    if (rows.length > 0) this.onChange({ kind: 'rows', rows });
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    for (const t of this.timers) clearTimeout(t);
  }
}
