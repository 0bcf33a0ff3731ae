/**
 * `GET /events`: Server-Sent Events, the live feed the dashboard draws from. One stream per
 * client carrying `stats` (every second), `query` (every answered query, while someone watches)
 * and `uplink` (state transitions, with their reasons). Each event has an id; a client that
 * reconnects with Last-Event-ID gets what it missed from the last 500. A client that does not
 * read is cut off once 256 KB wait for it — its EventSource reconnects and catches up by id —
 * so a slow page never grows our memory. A comment every 15 s keeps proxies from closing it.
 */
import type http from 'node:http';

const RING = 500;
const MAX_BUFFERED = 256 * 1024;
const HEARTBEAT_MS = 15_000;
const STATS_MS = 1000;

export interface EventSources {
  /** the `stats` event's body */
  stats: () => object;
  /** start the query tap (returns the way to stop it) */
  queries: (emit: (e: object) => void) => () => void;
  /** uplink transitions (returns the way to stop listening) */
  uplinks: (emit: (e: object) => void) => () => void;
}

export class EventStream {
  private readonly clients = new Set<http.ServerResponse>();
  private readonly ring: Array<{ id: number; text: string }> = [];
  private nextId = 1;
  private timers: NodeJS.Timeout[] = [];
  private stopTaps: Array<() => void> = [];
  readonly counts = { clients: 0, sent: 0, cutOff: 0 };

  constructor(private readonly src: EventSources) {}

  attach(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    const last = Number(req.headers['last-event-id']);
    if (Number.isInteger(last) && last > 0) for (const e of this.ring) if (e.id > last) res.write(e.text);
    this.clients.add(res);
    this.counts.clients = this.clients.size;
    res.on('close', () => this.detach(res));
    if (this.clients.size === 1) this.startFeeds();
  }

  private detach(res: http.ServerResponse): void {
    if (!this.clients.delete(res)) return;
    this.counts.clients = this.clients.size;
    if (this.clients.size === 0) this.stopFeeds();
  }

  /** The feeds cost something (the query tap, a stats snapshot a second): only while watched. */
  private startFeeds(): void {
    this.stopTaps = [this.src.queries((e) => this.publish('query', e)), this.src.uplinks((e) => this.publish('uplink', e))];
    this.timers = [
      setInterval(() => this.publish('stats', this.src.stats()), STATS_MS),
      setInterval(() => { for (const c of this.clients) c.write(': keepalive\n\n'); }, HEARTBEAT_MS),
    ];
    for (const t of this.timers) t.unref();
    this.publish('stats', this.src.stats());
  }

  private stopFeeds(): void {
    for (const s of this.stopTaps) s();
    for (const t of this.timers) clearInterval(t);
    this.stopTaps = [];
    this.timers = [];
  }

  publish(event: string, data: object): void {
    const id = this.nextId++;
    const text = `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    this.ring.push({ id, text });
    if (this.ring.length > RING) this.ring.shift();
    for (const c of this.clients) {
      if (c.writableLength > MAX_BUFFERED) {
        this.counts.cutOff++;
        c.destroy(); // it reconnects and catches up from the ring
        this.detach(c);
        continue;
      }
      c.write(text);
      this.counts.sent++;
    }
  }

  close(): void {
    for (const c of this.clients) c.destroy();
    this.clients.clear();
    this.stopFeeds();
  }
}
