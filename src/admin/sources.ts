/**
 * What the admin API reads. Every module's view, as the admin API and metrics read it.
 */
import type { ResolverView } from '../resolve/resolver-view.js';
import type { TransportCounts } from '../listen/acl-gate.js';
import type { UdpIoStatus } from '../listen/query-handler.js';
import type { Transition } from '../uplinks/health-machine.js';
import type { Selection } from '../uplinks/selection.js';
import type { RoutingStatus, UplinkDetail } from '../uplinks/uplink-monitor.js';
import type { PeerStatus } from '../wireguard/tunnel-status.js';
import type { WireguardStatus } from '../wireguard/wireguard-service.js';
import type { PolicyEngine, PolicyStatus } from '../uplinks/policies/policy-engine.js';
import type { ClassStatus, QueueingStatus } from '../aqm/queueing-service.js';
import type { DdnsStatus } from '../ddns/ddns-service.js';
import type { AddedPeer } from '../wireguard/wg-command.js';
import type { TunnelScope } from '../wireguard/wg-model.js';

export interface LeaseView {
  name: string;
  address: string;
  expires: string;
  source: string;
  state: string;
}

/** GET /uplinks: the policy, the current selection, routing, every uplink and recent events. */
import type { FlowsStatus } from '../uplinks/flows/flow-keeper.js';
import type { FollowerView } from '../ha/ha-follower.js';

export interface UplinksStatus {
  mode: string | null;
  selection: Selection | null;
  routing: RoutingStatus | null;
  uplinks: UplinkDetail[];
  events: Transition[];
}

export const NO_UPLINKS: UplinksStatus = { mode: null, selection: null, routing: null, uplinks: [], events: [] };

export interface AdminSources {
  resolver: () => ResolverView;
  /** the ACL gate's drops and refusals per transport */
  acl: () => { dropped: TransportCounts; refused: TransportCounts };
  /** HTTP/2 connections and streams the DoH listeners refused, by reason */
  dohRefused: () => Record<string, number>;
  /** per UDP listener: native batches (recvmmsg) or node:dgram */
  udpIo: () => UdpIoStatus[];
  leases: () => LeaseView[];
  /** per lease file: health, rows read and skipped, names live, added, removed, conflicts */
  leaseStats: () => object[];
  uplinks: () => UplinksStatus;
  /** every uplink state transition, whichever monitor a reload put in place (returns the unsubscribe) */
  onUplinkTransition: (cb: (t: Transition) => void) => () => void;
  /** GET /wireguard: reads `wg show` (cached for a moment) */
  wireguard: () => Promise<WireguardStatus>;
  /** the last peer status read, for metrics */
  wireguardPeers: () => PeerStatus[];
  /** POST /wireguard/peers: `wg add-peer`'s own code; the client config and its QR (a PNG data: URL), shown once */
  addPeer: (name: string, scope: TunnelScope) => Promise<AddedPeer & { qr: string }>;
  /** DELETE /wireguard/peers/NAME: `wg remove-peer`'s own code */
  removePeer: (name: string) => void;
  /** GET /queueing: per uplink, from `tc -s -j qdisc show` */
  queueing: () => Promise<QueueingStatus[]>;
  /** shaped rates now, for metrics */
  queueingRates: () => Array<{ uplink: string; up: number | null; down: number | null }>;
  /** the last per-second sample of every traffic class (no tc call) */
  queueingClasses: () => Array<{ uplink: string; status: ClassStatus[] }>;
  /** GET /policies: multi-WAN policies with hits (nft counters) and learned addresses */
  policies: () => Promise<{ policies: PolicyStatus[]; error: string | null }>;
  /** per policy: moves and addresses held, for metrics (no nft call) */
  policySnapshot: () => ReturnType<PolicyEngine['snapshot']>;
  /** GET /ddns: updates per key and rcode, transfers, NOTIFY; null when ddns is off */
  ddns: () => DdnsStatus | null;
  /** GET /uplinks' flows part: NAT, sessions per uplink (conntrack), flushes on failover; null without uplinks */
  uplinkFlows: () => Promise<FlowsStatus | null>;
  /** flushed flows (and the last sessions read) per uplink, for metrics (no conntrack call) */
  flowSnapshot: () => Array<{ name: string; flushed: number; sessions: number | null }>;
  /** GET /ha: the VRRP role and what this gateway publishes because of it */
  ha: () => HaView;
  /** GET /ddns/dynamic: the dynamic layer and its serial, for an HA peer to follow; null when ddns is off */
  ddnsDynamic: () => { serial: number; rrsets: Array<{ owner: string; type: string; records: Array<{ ttl: number; value: string }> }> } | null;
  reload: () => Promise<{ ok: true } | { ok: false; error: Error }>;
}

export interface HaView {
  enabled: boolean;
  role: string | null;
  /** when the role was set (the state file's time) */
  since: string | null;
  /** when this process took the role up */
  seenAt: string | null;
  changes: number;
  stateFile: string | null;
  publishing: boolean;
  publishes: string[];
  /** what this gateway would publish as master, held back now */
  withheld: string[];
  /** `ha.peer`: how far this gateway's copy of the peer's dynamic zone is */
  follow: FollowerView | null;
}
