/** Time, injectable where behaviour depends on it (TTLs, hold-downs), so tests drive it. */
export interface Clock {
  /** milliseconds */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
