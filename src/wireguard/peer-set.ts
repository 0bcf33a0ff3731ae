/** All peers of the tunnel: the hand-written ones, then those `wg add-peer` made, checked together. */
import { peerProblems } from './check-wireguard.js';
import { readState, statePeers } from './state-file.js';
import { WgError, type WgPeer, type WgSettings } from './wg-model.js';

export function loadPeers(s: WgSettings): WgPeer[] {
  const peers = [...s.peers, ...statePeers(readState(s.stateFile))];
  const problems = peerProblems(s, peers);
  if (problems.length > 0) {
    throw new WgError('WG_PEER_INVALID', `${s.stateFile}: ${problems.map((p) => p.message).join('; ')}`);
  }
  return peers;
}
