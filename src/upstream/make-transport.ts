/** Upstream config → its transport. */
import { readFileSync } from 'node:fs';
import type { UpstreamConfig } from '../config/types.js';
import { HttpsTransport } from './https-transport.js';
import { StreamPool, StreamTransport } from './stream-transport.js';
import type { SourceAddress, Transport } from './transport.js';
import { UdpTransport } from './udp-transport.js';
import type { UdpPoolLimits } from './udp-socket-pool.js';

export interface TransportOptions {
  /** RFC 7873 client cookies on plain UDP (default on) */
  cookies?: boolean;
  /** the UDP socket pool (`limits:`) */
  udpPool?: UdpPoolLimits;
}

export function makeTransport(u: UpstreamConfig, source: SourceAddress = {}, opts: TransportOptions = {}): Transport {
  const ca = u.tlsCa ? readFileSync(u.tlsCa) : undefined;
  switch (u.protocol) {
    case 'udp':
      return new UdpTransport(u.host, u.port, new StreamTransport('tcp', { host: u.host, port: u.port, source }), source, opts.cookies ?? true, opts.udpPool);
    case 'tcp':
      return new StreamTransport('tcp', { host: u.host, port: u.port, source });
    case 'tls': {
      const host = u.bootstrap[0] ?? u.host;
      return new StreamPool('tls', { host, port: u.port, tlsName: u.tlsName ?? u.host, ca, source, idleMs: 30_000 });
    }
    case 'https':
      return new HttpsTransport({ host: u.host, port: u.port, path: u.path, tlsName: u.tlsName, ca, bootstrap: u.bootstrap, source });
  }
}
