/**
 * Work queued during one event-loop turn, run together once the turn ends: the multi-WAN domain
 * policies (nft set elements) and the queueing classes (tc filters) both learn addresses from
 * answers this way, so a burst of answers costs one `nft`/`tc` run. A caller waits for its
 * batch, but never longer than `maxWaitMs` (then `onSlow` says so and it goes on).
 */
export class TurnBatch<T> {
  private pending: { items: T[]; done: Promise<void>; resolve: () => void } | null = null;

  constructor(
    private readonly run: (items: T[]) => Promise<void>,
    private readonly maxWaitMs: number,
    private readonly onSlow: () => void,
  ) {}

  /** Queue items; resolves when the batch holding them has run (or the wait ran out). */
  add(items: T[]): Promise<void> {
    if (this.pending === null) {
      let resolve!: () => void;
      const done = new Promise<void>((r) => { resolve = r; });
      this.pending = { items: [], done, resolve };
      setImmediate(() => void this.flush());
    }
    this.pending.items.push(...items);
    return this.pending.done;
  }

  private async flush(): Promise<void> {
    const b = this.pending!;
    this.pending = null;
    const timer = setTimeout(() => {
      this.onSlow();
      b.resolve();
    }, this.maxWaitMs);
    try {
      await this.run(b.items);
    } finally {
      clearTimeout(timer);
      b.resolve();
    }
  }
}
