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
