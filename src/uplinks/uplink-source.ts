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
