/**
 * Zone answers in wire form, made once per change of what they say and then served like a
 * cache hit (copy, ID, case, OPT). An entry goes when an owner it was made from changes (the
 * layers tell us before every change), when its TTLs would read differently (a lease record
 * counting down to its end), or, for answers that carry the SOA, when the serial moves.
 */
import type { PackedAnswer } from '../dns/reply.js';
import { KEY_SEED, StringTable } from '../string-table.js';

export interface RenderedAnswer extends PackedAnswer {
  /** ms epoch: serve until then */
  validUntil: number;
  /** the serial it carries (an SOA in it), or -1 */
  serial: number;
}

/**
 * One shape for every entry: built field by field, never by spreading a `PackedAnswer` (spread
 * objects got a map each, which made the hot path's property reads megamorphic: 0.8 µs a look-up).
 */
export function renderedAnswer(p: PackedAnswer, validUntil: number, serial: number): RenderedAnswer {
  return { bytes: p.bytes, start: p.start, end: p.end, bodyLen: p.bodyLen, validUntil, serial };
}

/** Enough for every name of a big home zone with a few types each; past it, start again. */
const MAX_ENTRIES = 100_000;

export class RenderedAnswers {
  /** by question key: a StringTable, not a Map — one look-up per own-zone answer (src/string-table.ts) */
  private readonly byKey = new StringTable<RenderedAnswer>(64, KEY_SEED);
  /** owner → the keys of answers made from it */
  private readonly byOwner = new Map<string, string[]>();

  /** Hot path: the answer for this question key, if still true. */
  get(key: string, hash: number, nowMs: number, serial: number): RenderedAnswer | undefined {
    const e = this.byKey.get(key, hash);
    if (e === undefined) return undefined;
    if (e.validUntil <= nowMs || (e.serial !== -1 && e.serial !== serial)) {
      this.byKey.delete(key, hash);
      return undefined;
    }
    return e;
  }

  put(key: string, hash: number, owners: readonly string[], e: RenderedAnswer): void {
    if (this.byKey.size >= MAX_ENTRIES) this.clear();
    this.byKey.set(key, e, hash);
    for (const o of owners) {
      const keys = this.byOwner.get(o);
      if (keys === undefined) this.byOwner.set(o, [key]);
      else if (!keys.includes(key)) keys.push(key);
    }
  }

  /** `owner` is about to change: every answer made from it goes. */
  touch(owner: string): void {
    const keys = this.byOwner.get(owner);
    if (keys === undefined) return;
    this.byOwner.delete(owner);
    for (const k of keys) this.byKey.delete(k);
  }

  clear(): void {
    this.byKey.clear();
    this.byOwner.clear();
  }

  get size(): number {
    return this.byKey.size;
  }
}
