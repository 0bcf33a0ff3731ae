/**
 * What the admin API reads. Modules that are not built yet (leases, uplinks, WireGuard,
 * queueing) report empty lists here until they are; the paths and shapes are already fixed.
 */
import type { Resolver } from '../resolve/resolver.js';

export interface LeaseView {
  name: string;
  address: string;
  expires: string;
  source: string;
  state: string;
}

export interface UplinkView {
  name: string;
  state: 'up' | 'degraded' | 'down';
  since: string;
  reason: string;
  rttMs: number | null;
  loss: number | null;
  flaps: number;
  selected: boolean;
}

export interface AdminSources {
  resolver: () => Resolver;
  leases: () => LeaseView[];
  /** per lease file: health, rows read and skipped, names live, added, removed, conflicts */
  leaseStats: () => object[];
  uplinks: () => UplinkView[];
  wireguard: () => object[];
  queueing: () => object[];
  reload: () => Promise<{ ok: true } | { ok: false; error: Error }>;
}
