/**
 * The peers `wg add-peer` made, in a JSON file edgedns owns (mode 0600, replaced atomically).
 * It holds public keys and the paths of preshared-key files, never a private key.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../atomic-write.js';
import { arr, JsonShapeError, obj, oneOf, optional, str } from '../json-shape.js';
import { WgError, type WgPeer } from './wg-model.js';

const statePeer = obj({
  name: str(),
  'public-key': str(),
  'preshared-key-file': optional(str()),
  address: arr(str()),
  scope: oneOf('full', 'split'),
  created: str(),
}, true);

const stateFile = obj({ version: oneOf(1), peers: arr(statePeer) }, true);

export type WgState = ReturnType<typeof stateFile>;

export function readState(path: string): WgState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, peers: [] };
    throw new WgError('WG_STATE_INVALID', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WgError('WG_STATE_INVALID', `${path}: not JSON (${(e as Error).message})`, { cause: e });
  }
  try {
    return stateFile(json, '');
  } catch (e) {
    if (!(e instanceof JsonShapeError)) throw e;
    throw new WgError('WG_STATE_INVALID', `${path}: ${e.message}`, { cause: e });
  }
}

export function writeState(path: string, state: WgState): void {
  writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`);
}

export function statePeers(state: WgState): WgPeer[] {
  return state.peers.map((p) => ({
    name: p.name,
    publicKey: p['public-key'],
    presharedKeyFile: p['preshared-key-file'],
    addresses: p.address,
    mode: 'remote-access',
    routes: [],
    origin: 'state',
    scope: p.scope,
  }));
}
