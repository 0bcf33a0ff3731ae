/**
 * DNS Cookies, the server side (RFC 7873 §5.2, server cookies as RFC 9018 §4 builds them):
 * Version 1 | Reserved | Timestamp | SipHash-2-4(Client Cookie | Version | Reserved | Timestamp |
 * Client IP, Server Secret). A server cookie is valid for an hour (five minutes ahead, for skewed
 * clocks) and is re-issued once it is older than half an hour. Runs only for queries that carry
 * a COOKIE option.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { ipaddr } from '../cjs.js';
import { siphash24 } from './siphash.js';
import { copyBytes, put32 } from './bytes.js';
import type { ParsedQuery } from './query.js';

const VALID_PAST_S = 3600;
const VALID_AHEAD_S = 300;
const REISSUE_AFTER_S = 1800;
const hashInput = Buffer.alloc(8 + 8 + 16);
const mac = Buffer.alloc(8);
/** The hash input of an IPv4 client: the first 20 bytes of `hashInput` (an IPv6 one uses all 32). */
const input4 = hashInput.subarray(0, 20);

export class ServerCookies {
  private readonly ips = new Map<string, Buffer>();

  /** @param secret 16 bytes; random unless an HA pair shares one */
  constructor(readonly secret: Buffer = randomBytes(16)) {
    if (secret.length !== 16) throw new RangeError('a cookie secret is 16 bytes');
  }

  /**
   * Sets `q.cookieOut` (client cookie + a server cookie for this client) and says whether the
   * query brought a valid server cookie of ours.
   */
  answer(query: Uint8Array, q: ParsedQuery, clientAddress: string, nowSeconds: number): boolean {
    const at = q.cookieAt;
    const ip = this.ipBytes(clientAddress);
    let valid = false;
    if (q.cookieLen === 24 && query[at + 8] === 1) {
      const ts = ((query[at + 12] << 24) | (query[at + 13] << 16) | (query[at + 14] << 8) | query[at + 15]) >>> 0;
      const age = nowSeconds - ts;
      if (age <= VALID_PAST_S && age >= -VALID_AHEAD_S) {
        this.hash(query, at, ip);
        valid = true;
        for (let i = 0; i < 8; i++) if (mac[i] !== query[at + 16 + i]) valid = false;
        if (valid && age < REISSUE_AFTER_S) {
          const same = Buffer.allocUnsafe(24);
          copyBytes(query, at, at + 24, same, 0);
          q.cookieOut = same;
          return true;
        }
      }
    }
    const out = Buffer.alloc(24);
    copyBytes(query, at, at + 8, out, 0);
    out[8] = 1;
    put32(out, 12, nowSeconds >>> 0);
    this.hash(out, 0, ip);
    copyBytes(mac, 0, 8, out, 16);
    q.cookieOut = out;
    return valid;
  }

  /** The RFC 9018 hash of client cookie | version | reserved | timestamp (16 bytes of `head` at `at`) | client IP. */
  private hash(head: Uint8Array, at: number, ip: Buffer): void {
    copyBytes(head, at, at + 16, hashInput, 0);
    copyBytes(ip, 0, ip.length, hashInput, 16);
    siphash24(this.secret, ip.length === 4 ? input4 : hashInput, mac);
  }

  private ipBytes(address: string): Buffer {
    let b = this.ips.get(address);
    if (b === undefined) {
      let parsed: ipaddr.IPv4 | ipaddr.IPv6;
      try {
        parsed = ipaddr.process(address);
      } catch {
        parsed = ipaddr.parse('::');
      }
      b = Buffer.from(parsed.toByteArray());
      if (this.ips.size >= 4096) this.ips.clear();
      this.ips.set(address, b);
    }
    return b;
  }
}
