/**
 * WireGuard keys with node:crypto's X25519: base64 of 32 bytes, the form `wg genkey`, `wg pubkey`
 * and `wg genpsk` use. A private key is clamped the way `wg genkey` clamps it.
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';

/** PKCS#8 wrapping of a raw X25519 private key (RFC 8410), for createPrivateKey. */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export function isWgKey(s: string): boolean {
  return KEY.test(s) && Buffer.from(s, 'base64').length === 32;
}

export function generatePrivateKey(): string {
  const d = randomBytes(32);
  d[0] &= 248;
  d[31] = (d[31] & 127) | 64;
  return d.toString('base64');
}

export function publicKeyOf(privateKey: string): string {
  if (!isWgKey(privateKey)) throw new Error('not a WireGuard key (base64 of 32 bytes)');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, Buffer.from(privateKey, 'base64')]), format: 'der', type: 'pkcs8' });
  return createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
}

export function generatePresharedKey(): string {
  return randomBytes(32).toString('base64');
}
