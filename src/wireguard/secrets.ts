/** Reading the server's private key and peers' preshared keys from their files (never logged). */
import { readFileSync } from 'node:fs';
import { isWgKey } from './keys.js';
import type { Secrets } from './render.js';
import { WgError, type WgPeer, type WgSettings } from './wg-model.js';

export function readKeyFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new WgError('WG_KEY_MISSING', missing ? `${what} ${path} does not exist${what === 'private key' ? ' (run: edgedns wg init -c FILE)' : ''}` : `cannot read ${what} ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!isWgKey(text)) throw new WgError('WG_KEY_INVALID', `${what} ${path} is not a WireGuard key (base64 of 32 bytes)`);
  return text;
}

export function loadSecrets(s: WgSettings, peers: WgPeer[]): Secrets {
  const privateKey = readKeyFile(s.privateKeyFile, 'private key');
  const psks = new Map<string, string>();
  for (const p of peers) {
    if (p.presharedKeyFile) psks.set(p.name, readKeyFile(p.presharedKeyFile, `preshared key of peer "${p.name}"`));
  }
  return { privateKey, psk: (p) => psks.get(p.name) };
}
