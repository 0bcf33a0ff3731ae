/**
 * Peer status from `wg show <if> dump`, joined with the peer list by public key. The dump's first
 * line carries the private key: it is split off here and never kept.
 */
import type { WgPeer } from './wg-model.js';

/** A handshake younger than this means the peer is up (WireGuard rekeys every 2 minutes). */
export const UP_WITHIN_S = 180;

export type PeerState = 'never' | 'up' | 'stale';

export interface PeerStatus {
  name: string | null;
  publicKey: string;
  address: string[];
  mode: string | null;
  origin: string | null;
  allowedIps: string[];
  endpoint: string | null;
  /** ISO time of the latest handshake, or null */
  handshake: string | null;
  handshakeAgeS: number | null;
  rx: number;
  tx: number;
  state: PeerState;
}

export interface InterfaceStatus {
  publicKey: string;
  listenPort: number;
}

export function parseDump(dump: string, peers: WgPeer[], nowMs: number): { iface: InterfaceStatus | null; peers: PeerStatus[] } {
  const lines = dump.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return { iface: null, peers: [] };
  const head = lines[0].split('\t');
  const iface = { publicKey: head[1], listenPort: Number(head[2]) };
  const byKey = new Map(peers.map((p) => [p.publicKey, p]));
  const out = lines.slice(1).map((line): PeerStatus => {
    const [publicKey, , endpoint, allowed, latest, rx, tx] = line.split('\t');
    const p = byKey.get(publicKey);
    const at = Number(latest) * 1000;
    const age = at > 0 ? Math.max(0, Math.round((nowMs - at) / 1000)) : null;
    return {
      name: p?.name ?? null,
      publicKey,
      address: p?.addresses ?? [],
      mode: p?.mode ?? null,
      origin: p?.origin ?? null,
      allowedIps: allowed === '(none)' ? [] : allowed.split(','),
      endpoint: endpoint === '(none)' ? null : endpoint,
      handshake: at > 0 ? new Date(at).toISOString() : null,
      handshakeAgeS: age,
      rx: Number(rx),
      tx: Number(tx),
      state: age === null ? 'never' : age < UP_WITHIN_S ? 'up' : 'stale',
    };
  });
  return { iface, peers: out };
}
