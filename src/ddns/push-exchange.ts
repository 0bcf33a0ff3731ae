/**
 * One UPDATE to an external primary and its answer: a fresh UDP socket per exchange (a random
 * source port, bound to the selected uplink's address), a random ID, TSIG-signed when the target
 * has a key and the reply's signature checked. Resolves to the rcode; rejects with a PushError
 * when no trustworthy answer came.
 */
import { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { EdgeError } from '../errors.js';
import { signRequest, verifyReply, type TsigKey } from '../dns/tsig.js';
import { buildUpdate, type UpdateRecord } from '../dns/update-message.js';

export type PushErrorCode = 'PUSH_TIMEOUT' | 'PUSH_NETWORK' | 'PUSH_RCODE' | 'PUSH_BAD_REPLY' | 'PUSH_UNSIGNED_REPLY';
export class PushError extends EdgeError<PushErrorCode> {}

export interface Exchange {
  server: { address: string; port: number };
  zone: string;
  prereqs: UpdateRecord[];
  updates: UpdateRecord[];
  key?: TsigKey;
  /** the uplink's source address, or undefined for the kernel's choice */
  source?: string;
  timeoutMs: number;
  nowSeconds: number;
}

export function exchange(x: Exchange): Promise<number> {
  const id = randomInt(0, 65536);
  let message = buildUpdate(id, x.zone, x.prereqs, x.updates);
  let mac: Buffer | null = null;
  if (x.key) ({ message, mac } = signRequest(message, x.key, x.nowSeconds));
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(isIPv6(x.server.address) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (err: PushError | null, rcode = 0) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(rcode);
    };
    const timer = setTimeout(() => finish(new PushError('PUSH_TIMEOUT', `no answer from ${x.server.address}:${x.server.port} in ${x.timeoutMs} ms`)), x.timeoutMs);
    sock.on('error', (e) => finish(new PushError('PUSH_NETWORK', `${x.server.address}:${x.server.port}: ${e.message}`)));
    sock.on('message', (reply, from) => {
      // Anything not from the primary, or not our ID, is ignored (it may be a spoof): wait on.
      if (from.port !== x.server.port || from.address !== x.server.address) return;
      if (reply.length < 12 || reply.readUInt16BE(0) !== id || (reply[2] & 0x80) === 0) return;
      const rcode = reply[3] & 0x0f;
      if (x.key && mac) {
        const v = verifyReply(reply, x.key, mac, Math.floor(Date.now() / 1000));
        if (v === 'bad') return finish(new PushError('PUSH_BAD_REPLY', `reply from ${x.server.address} failed its TSIG check`));
        if (v === 'unsigned') return finish(new PushError('PUSH_UNSIGNED_REPLY', `unsigned reply from ${x.server.address} (rcode ${rcode}): does it know key ${x.key.name}?`));
      }
      finish(null, rcode);
    });
    sock.bind({ port: 0, address: x.source }, () => {
      sock.send(message, x.server.port, x.server.address, (e) => {
        if (e) finish(new PushError('PUSH_NETWORK', `${x.server.address}:${x.server.port}: ${e.message}`));
      });
    });
  });
}
