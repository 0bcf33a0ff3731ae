/**
 * Plain DNS over UDP: a fresh socket (so a fresh kernel-random source port) and a random ID per
 * query, connected to the upstream so the kernel drops datagrams from anyone else; a reply whose
 * ID or question does not match is ignored, not accepted. TC → the same query over TCP.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { Buffer } from 'node:buffer';
import { randomId, responseMatches, UpstreamError, type SourceAddress, type Transport } from './transport.js';

export class UdpTransport implements Transport {
  readonly protocol = 'udp' as const;
  private readonly open = new Set<dgram.Socket>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly tcpFallback: Transport,
    private readonly source: SourceAddress = {},
  ) {}

  query(wire: Buffer, timeoutMs: number): Promise<Buffer> {
    const out = Buffer.from(wire);
    out.writeUInt16BE(randomId(), 0);
    return new Promise<Buffer>((resolve, reject) => {
      const sock = dgram.createSocket(isIPv6(this.host) ? 'udp6' : 'udp4');
      this.open.add(sock);
      let done = false;
      const finish = (err: Error | null, res?: Buffer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.open.delete(sock);
        sock.close();
        if (err) reject(err);
        else resolve(res!);
      };
      const timer = setTimeout(() => finish(new UpstreamError('UPSTREAM_TIMEOUT', `udp://${this.host}:${this.port} did not answer in ${timeoutMs} ms`)), timeoutMs);
      sock.on('error', (e) => finish(new UpstreamError('UPSTREAM_NETWORK', `udp://${this.host}:${this.port}: ${e.message}`, { cause: e })));
      sock.on('message', (msg) => {
        if (!responseMatches(out, msg)) return; // spoofed or stale: keep waiting
        if (msg[2] & 0x02) {
          finish(null, Buffer.alloc(0)); // truncated: the caller below retries over TCP
          return;
        }
        finish(null, msg);
      });
      sock.bind({ port: 0, address: this.source.localAddress }, () => {
        sock.connect(this.port, this.host, () => {
          sock.send(out, (e) => { if (e) finish(new UpstreamError('UPSTREAM_NETWORK', e.message, { cause: e })); });
        });
      });
    }).then((res) => (res.length === 0 ? this.tcpFallback.query(wire, timeoutMs) : res));
  }

  drain(): void {
    this.tcpFallback.drain?.(); // each UDP query binds afresh anyway
  }

  close(): void {
    for (const s of this.open) s.close();
    this.open.clear();
    this.tcpFallback.close();
  }
}
