/**
 * A small real UDP/TCP DNS peer for behaviour Unbound cannot be asked to show: it counts what it
 * receives (IDs, source ports), answers after a delay, stays silent, or sends a spoofed reply
 * before the real one. It is a test peer on loopback, not a mock of edgedns's parts.
 */
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { freePort } from './ports.js';

export interface FixtureOptions {
  /** A records to answer: name → [address, ttl] */
  answers?: Record<string, [string, number]>;
  delayMs?: number;
  silent?: boolean;
  /** send a reply with a wrong ID first, then the right one */
  spoofFirst?: boolean;
  /** say nothing to queries from this source address (a path that went dead) */
  silentFrom?: string;
  /**
   * answer with DNS Cookies (RFC 7873): echo the client cookie plus a server cookie; and first
   * send a reply with the right ID and question but someone else's client cookie (an off-path
   * spoofer who guessed the ID)
   */
  cookieSpoofFirst?: boolean;
  /** answer ANY for these names with every RRset they have (as BIND without minimal-any does) */
  anyAnswers?: Record<string, Array<{ type: 'A' | 'AAAA' | 'TXT'; data: string }>>;
}

/** What a spoofed reply claims; a test asserts edgedns never serves it. */
export const SPOOFED_ADDRESS = '203.0.113.66';

export interface SeenQuery {
  id: number;
  port: number;
  name: string;
  type: string;
  from: string;
}

export class DnsFixture {
  readonly seen: SeenQuery[] = [];
  private constructor(private readonly sock: dgram.Socket, readonly port: number, public opts: FixtureOptions) {}

  static async start(opts: FixtureOptions = {}): Promise<DnsFixture> {
    const port = await freePort();
    const sock = dgram.createSocket('udp4');
    const f = new DnsFixture(sock, port, opts);
    sock.on('message', (msg, rinfo) => f.onQuery(msg, rinfo));
    await new Promise<void>((r) => sock.bind(port, '127.0.0.1', () => r()));
    return f;
  }

  get url(): string {
    return `udp://127.0.0.1:${this.port}`;
  }

  private onQuery(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let q;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (!question) return;
    this.seen.push({ id: q.id ?? 0, port: rinfo.port, name: question.name, type: question.type, from: rinfo.address });
    if (this.opts.silent || this.opts.silentFrom === rinfo.address) return;
    const hit = this.opts.answers?.[question.name.toLowerCase()];
    const options = (q.additionals ?? []).flatMap((a) => (a.type === 'OPT' ? a.options ?? [] : [])) as Array<{ code: number; data?: Buffer }>;
    const clientCookie = options.find((o) => o.code === 10)?.data?.subarray(0, 8);
    const cookieOpt = (client: Buffer) => [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 10, data: Buffer.concat([client, Buffer.alloc(16, 7)]) }] }];
    const reply = (id: number, address = hit?.[0], cookie = clientCookie) => dnsPacket.encode({
      type: 'response', id, flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED | (hit ? 0 : 3),
      questions: [question],
      answers: hit && question.type === 'A' ? [{ name: question.name, type: 'A', ttl: hit[1], data: address! }] : [],
      authorities: hit ? [] : [{ name: 'fixture.example', type: 'SOA', ttl: 60, data: { mname: 'ns.fixture.example', rname: 'h.fixture.example', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 } }],
      additionals: this.opts.cookieSpoofFirst && cookie ? cookieOpt(cookie) as never : [],
    });
    const every = (question.type as string) === 'ANY' ? this.opts.anyAnswers?.[question.name.toLowerCase()] : undefined;
    if (every) {
      this.sock.send(dnsPacket.encode({
        type: 'response', id: q.id ?? 0, flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED, questions: [question],
        answers: every.map((r) => ({ name: question.name, ttl: 300, ...r }) as never),
      }), rinfo.port, rinfo.address);
      return;
    }
    const send = () => {
      if (this.opts.spoofFirst) {
        const bad = reply(((q.id ?? 0) + 1) & 0xffff, SPOOFED_ADDRESS);
        this.sock.send(bad, rinfo.port, rinfo.address);
      }
      if (this.opts.cookieSpoofFirst) {
        this.sock.send(reply(q.id ?? 0, SPOOFED_ADDRESS, Buffer.from('0badc0de0badc0de', 'hex')), rinfo.port, rinfo.address);
      }
      this.sock.send(reply(q.id ?? 0), rinfo.port, rinfo.address);
    };
    if (this.opts.delayMs) setTimeout(send, this.opts.delayMs);
    else send();
  }

  close(): Promise<void> {
    return new Promise((r) => this.sock.close(() => r()));
  }
}
