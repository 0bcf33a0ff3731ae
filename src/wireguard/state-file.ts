/**
 * The peers `wg add-peer` made, in a JSON file edgedns owns (mode 0600, replaced atomically).
 * It holds public keys and the paths of preshared-key files, never a private key.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../atomic-write.js';
import { WgError, type WgPeer } from './wg-model.js';

const statePeer = z.strictObject({
  name: z.string(),
  'public-key': z.string(),
  'preshared-key-file': z.string().optional(),
  address: z.array(z.string()),
  scope: z.enum(['full', 'split']),
  created: z.string(),
});

const stateSchema = z.strictObject({ version: z.literal(1), peers: z.array(statePeer) });

export type WgState = z.infer<typeof stateSchema>;

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
  const r = stateSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new WgError('WG_STATE_INVALID', `${path}: ${i.path.join('.') || '(root)'}: ${i.message}`, { cause: r.error });
  }
  return r.data;
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
