/**
 * A module that must see certain answers before they leave (multi-WAN domain policies learn the
 * addresses of the names they steer). `wants` runs for every answered query, so it must cost a
 * map look-up at most; `observe` may return a Promise the reply waits for.
 */
export interface AnswerObserver {
  /** `name`: the question's lower-case wire name */
  wants(name: string): boolean;
  observe(name: string, reply: Buffer): Promise<void> | undefined;
}

/** Several observers as one (multi-WAN policies and queueing classes); null when there are none. */
export function combineObservers(list: Array<AnswerObserver | null | undefined>): AnswerObserver | null {
  const all = list.filter((o): o is AnswerObserver => o != null);
  if (all.length <= 1) return all[0] ?? null;
  return {
    wants: (name) => all.some((o) => o.wants(name)),
    observe(name, reply) {
      const waits = all.filter((o) => o.wants(name)).map((o) => o.observe(name, reply)).filter((w): w is Promise<void> => w !== undefined);
      return waits.length === 0 ? undefined : Promise.all(waits).then(() => undefined);
    },
  };
}
