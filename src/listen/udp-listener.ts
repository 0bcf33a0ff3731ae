/**
 * DNS over UDP on one address through node:dgram: the path without the native addon (or with
 * `EDGEDNS_UDP_IO=dgram`). Node cannot reply from the arrival address of a wildcard socket (no
 * IP_PKTINFO), so there is one socket per address. The message handler is synchronous for
 * answers that need no I/O: a cache hit goes out before the handler returns.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { Buffer } from 'node:buffer';
import { PendingReply } from '../resolve/pending-reply.js';
import { answerUdp, type Listener, type ListenerDeps } from './query-handler.js';
import { closeTurn, openTurn } from '../clock.js';

const RECV_BUFFER = 4 * 1024 * 1024;

export class UdpListener implements Listener {
  readonly id: string;
  readonly io = 'dgram' as const;
  private sock: dgram.Socket | null = null;
  /** Replies still waiting on an upstream; close() waits for them. */
  private pending = 0;
  private draining = false;
  private drained: (() => void) | null = null;

  constructor(private readonly address: string, private readonly port: number, private readonly deps: ListenerDeps) {
    this.id = `udp|${address}|${port}`;
  }

  start(): Promise<void> {
    const { gate, onError } = this.deps;
    const sock = dgram.createSocket({ type: isIPv6(this.address) ? 'udp6' : 'udp4', ipv6Only: isIPv6(this.address) });
    this.sock = sock;
    // A reply owed stays pending until its datagram is handed to the kernel (send is async),
    // so a graceful stop cannot close the socket under it.
    const sent = () => {
      if (--this.pending === 0 && this.drained) this.drained();
    };
    const send = (b: Buffer | null, port: number, addr: string) => {
      if (b !== null) sock.send(b, port, addr, sent);
      else sent();
    };
    sock.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      if (this.draining) return;
      openTurn();
      try {
        const action = gate.check(rinfo.address, 'udp');
        if (action === 'drop') return;
        const r = answerUdp(this.deps, action, msg, rinfo.address);
        if (r === null) return;
        if (!(r instanceof PendingReply)) sock.send(r as Buffer, rinfo.port, rinfo.address); // message lists are stream-only
        else {
          this.pending++;
          r.on((_, b, err) => {
            if (err !== null) onError(err, this.id);
            send(b, rinfo.port, rinfo.address);
          }, null);
        }
      } catch (e) {
        onError(e as Error, this.id); // a bug, never a crash: the packet is dropped
      } finally {
        closeTurn();
      }
    });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: this.address, port: this.port }, () => {
        sock.off('error', reject);
        sock.on('error', (e) => onError(e, this.id));
        try {
          sock.setRecvBufferSize(RECV_BUFFER);
        } catch { /* capped by net.core.rmem_max; the default still works */ }
        resolve();
      });
    });
  }

  /** Ignore new queries, send the replies still owed (up to 5 s), then close. */
  async close(): Promise<void> {
    const sock = this.sock;
    this.sock = null;
    if (!sock) return;
    this.draining = true;
    if (this.pending > 0) {
      await new Promise<void>((resolve) => {
        const cap = setTimeout(resolve, 5000);
        this.drained = () => { clearTimeout(cap); resolve(); };
      });
    }
    await new Promise<void>((resolve) => sock.close(() => resolve()));
  }
}
