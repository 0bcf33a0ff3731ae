/**
 * Longest-suffix lookup over lower-case wire names. Entries are bucketed by their last label, so
 * a name under a TLD nobody configured (most internet names) costs one label walk and one Map miss.
 */
import { isUnder } from './name.js';

interface Entry<T> {
  wire: string;
  value: T;
}

function lastLabel(wire: string): string {
  let pos = 0;
  let last = 0;
  while (pos < wire.length && wire.charCodeAt(pos) !== 0) {
    last = pos;
    pos += 1 + wire.charCodeAt(pos);
  }
  return wire.slice(last);
}

export class SuffixMatcher<T> {
  private readonly byTld = new Map<string, Entry<T>[]>();

  /** Later entries for the same suffix replace earlier ones. */
  add(wire: string, value: T): void {
    const tld = lastLabel(wire);
    const list = this.byTld.get(tld) ?? [];
    const i = list.findIndex((e) => e.wire === wire);
    if (i >= 0) list.splice(i, 1);
    list.push({ wire, value });
    list.sort((a, b) => b.wire.length - a.wire.length);
    this.byTld.set(tld, list);
  }

  match(name: string): T | undefined {
    const list = this.byTld.get(lastLabel(name));
    if (list === undefined) return undefined;
    for (const e of list) if (isUnder(name, e.wire)) return e.value;
    return undefined;
  }
}
