/**
 * What the rest of edgedns reads from this room: the uplink a flow leaves through and the
 * address to bind, and a signal when that may have changed. Upstreams read it now; WireGuard and
 * smart queueing subscribe to the same monitor later.
 */
export interface UplinkRoute {
  uplink: string;
  /** the uplink's source address of the flow's family; undefined: let the kernel choose */
  address: string | undefined;
}

export interface UplinkSource {
  /** `flow`: a stable key (an upstream's URL); load-balance spreads flows by weight. */
  route(flow: string, family: 4 | 6): UplinkRoute | null;
  /** Bumps on every change of selection or source address. */
  readonly generation: number;
  /** Called after every change; returns the unsubscribe function. */
  onChange(cb: () => void): () => void;
}

/**
 * What rooms outside uplinks/ (smart queueing, WireGuard) may follow: the route source, the
 * selection in force, every probe RTT, and when the routes of a change are in. The monitor
 * implements it; they never take the monitor itself.
 */
export interface UplinkEvents extends UplinkSource {
  readonly uplinks: ReadonlyArray<{ readonly name: string; readonly priority: number }>;
  current(): { active: string[] } | null;
  /** Every probe RTT sample (ms) of every uplink; returns the unsubscribe function. */
  onRtt(cb: (uplink: string, rttMs: number, at: number) => void): () => void;
  /** Resolves once the routes for the selection in force are applied. */
  routesSettled(): Promise<void>;
}
