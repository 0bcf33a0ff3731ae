/**
 * DHCID RDATA (RFC 4701 §3.3): the identifier type, digest type 1 (SHA-256), and SHA-256 over
 * the client's identifier and the name in canonical wire form. Equal for the same client and
 * name, whoever computes it, which is what RFC 4703's "is this name mine?" check relies on.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { encodeName, normalizeName } from '../dns/name.js';

/** `client` as in LeaseRow.client (hex: 2-byte type, identifier); the value as the zone keeps it (base64). */
export function dhcidFor(client: string, fqdn: string): string {
  const id = Buffer.from(client, 'hex');
  const digest = createHash('sha256').update(id.subarray(2)).update(encodeName(normalizeName(fqdn))).digest();
  return Buffer.concat([id.subarray(0, 2), Buffer.from([1]), digest]).toString('base64');
}
