/**
 * Every peer's name in the local zone: NAME.wg.<domain> → its tunnel addresses, with PTR.
 * The `wireguard` layer is replaced whole in one synchronous call, so a query sees the old set
 * or the new one.
 */
import { isIPv4 } from 'node:net';
import { reverseName } from '../dns/reverse.js';
import type { ZoneWriter } from '../zone/zone-port.js';
import type { ZoneRecord } from '../zone/records.js';
import { hostOf, type WgPeer } from './wg-model.js';

export const WG_ORIGIN = 'wireguard';

export function peerName(peer: WgPeer, suffix: string): string {
  return `${peer.name.toLowerCase()}.${suffix}`;
}

export function publishPeerNames(layers: ZoneWriter, suffix: string, peers: WgPeer[], ttl: number): void {
  layers.clear(WG_ORIGIN);
  for (const p of peers) {
    const name = peerName(p, suffix);
    const hosts = p.addresses.map(hostOf);
    for (const type of ['A', 'AAAA'] as const) {
      const values = hosts.filter((h) => isIPv4(h) === (type === 'A'));
      const records: ZoneRecord[] = values.map((value) => ({ name, type, ttl, value, origin: WG_ORIGIN }));
      layers.set(WG_ORIGIN, name, type, records);
    }
    for (const h of hosts) {
      const owner = reverseName(h);
      layers.set(WG_ORIGIN, owner, 'PTR', [{ name: owner, type: 'PTR', ttl, value: name, origin: WG_ORIGIN }]);
    }
  }
}
