/** RFC 1035 §4.2.2 two-byte length framing for DNS over TCP and TLS. */
import { Buffer } from 'node:buffer';
import { copyBytes, put16, u16 } from './bytes.js';

export function frame(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(msg.length + 2);
  put16(out, 0, msg.length);
  copyBytes(msg, 0, msg.length, out, 2);
  return out;
}

/** Reassembles messages from chunks split at arbitrary boundaries. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** The next whole message, or null until more bytes arrive. */
  next(): Buffer | null {
    if (this.buf.length < 2) return null;
    const len = u16(this.buf, 0);
    if (this.buf.length < len + 2) return null;
    const msg = this.buf.subarray(2, len + 2);
    this.buf = this.buf.subarray(len + 2);
    return msg;
  }

  get buffered(): number {
    return this.buf.length;
  }
}
