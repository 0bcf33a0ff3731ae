/** Time, injectable where behaviour depends on it (TTLs, hold-downs), so tests drive it. */
export interface Clock {
  /** milliseconds */
  now(): number;
}

/*
 * One reading of each clock per batch of datagrams. A cache miss read the clock nine times (the
 * cache's look-up and store, the upstream group's order and the attempt's start and end, the
 * pool socket's age, the deadline queue, the query's start and end), at ~40 ns a read on a VM.
 * Between `openTurn()` and `closeTurn()` (a batch callback of a listener or an upstream socket)
 * the first read of each clock is kept and every later one returns it: the datagrams of a batch
 * arrived together and are handled within a fraction of a millisecond, and nothing on the query
 * path waits for time to pass. Outside a turn every read is fresh.
 */
let turns = 0;
let wall = -1;
let mono = -1;

export function openTurn(): void {
  turns++;
}

export function closeTurn(): void {
  if (--turns === 0) wall = mono = -1;
}

export const systemClock: Clock = {
  now: () => (turns === 0 ? Date.now() : wall >= 0 ? wall : (wall = Date.now())),
};

/** performance.now(), read once per turn as `systemClock` is. */
export function monotonicNow(): number {
  return turns === 0 ? performance.now() : mono >= 0 ? mono : (mono = performance.now());
}
