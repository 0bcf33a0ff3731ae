/** Raw UDP/TCP DNS clients for what dig cannot do: malformed packets, pipelining, chunking. */
import dgram from 'node:dgram';
import net from 'node:net';

/** Send one datagram; resolve with the reply or null after `waitMs`. */
export function udpExchange(port: number, packet: Buffer, waitMs = 1000, host = '127.0.0.1'): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); resolve(null); }, waitMs);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(m); });
    s.send(packet, port, host);
  });
}

export function frameOf(msg: Buffer): Buffer {
  const b = Buffer.alloc(msg.length + 2);
  b.writeUInt16BE(msg.length, 0);
  msg.copy(b, 2);
  return b;
}

/** A TCP connection that collects framed replies in arrival order. */
export class TcpClient {
  readonly replies: Buffer[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 2 && this.buf.length >= 2 + this.buf.readUInt16BE(0)) {
        const len = this.buf.readUInt16BE(0);
        this.replies.push(this.buf.subarray(2, 2 + len));
        this.buf = this.buf.subarray(2 + len);
      }
    });
    sock.on('close', () => { this.closed = true; });
    sock.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(new TcpClient(s)));
      s.once('error', reject);
    });
  }

  /** Write bytes one at a time, so frames arrive split at every boundary. */
  async writeByteByByte(data: Buffer): Promise<void> {
    for (const byte of data) {
      this.sock.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
  }

  async waitFor(count: number, timeoutMs = 5000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.replies;
  }

  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close(): void {
    this.sock.destroy();
  }
}
