/**
 * What the admin API reads. Modules that are not built yet (WireGuard, queueing) report empty lists here until they are; the paths and shapes are already fixed.
 */
import type { Resolver } from '../resolve/resolver.js';
import type { Transition } from '../uplinks/health-machine.js';
import type { Selection } from '../uplinks/selection.js';
import type { RoutingStatus, UplinkDetail } from '../uplinks/uplink-monitor.js';

export interface LeaseView {
  name: string;
  address: string;
  expires: string;
  source: string;
  state: string;
}

/** GET /uplinks: the policy, the current selection, routing, every uplink and recent events. */
export interface UplinksStatus {
  mode: string | null;
  selection: Selection | null;
  routing: RoutingStatus | null;
  uplinks: UplinkDetail[];
  events: Transition[];
}

export const NO_UPLINKS: UplinksStatus = { mode: null, selection: null, routing: null, uplinks: [], events: [] };

export interface AdminSources {
  resolver: () => Resolver;
  leases: () => LeaseView[];
  /** per lease file: health, rows read and skipped, names live, added, removed, conflicts */
  leaseStats: () => object[];
  uplinks: () => UplinksStatus;
  wireguard: () => object[];
  queueing: () => object[];
  reload: () => Promise<{ ok: true } | { ok: false; error: Error }>;
}
