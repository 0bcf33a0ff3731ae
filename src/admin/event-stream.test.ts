import { EventEmitter } from 'node:events';
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { EventStream } from './event-stream.js';

/** The response side the stream uses; `stuck` models a client that stopped reading. */
class FakeResponse extends EventEmitter {
  text = '';
  writableLength = 0;
  destroyed = false;
  constructor(readonly stuck = false) { super(); }
  writeHead() { return this; }
  write(s: string) { if (this.stuck) this.writableLength += s.length; else this.text += s; return true; }
  destroy() { this.destroyed = true; this.emit('close'); return this; }
}

const req = (lastId?: number) => ({ headers: lastId === undefined ? {} : { 'last-event-id': String(lastId) } }) as unknown as http.IncomingMessage;

describe('EventStream (GET /events)', () => {
  it('feeds stats, queries and uplink transitions only while watched, replays by Last-Event-ID, and cuts off a client that does not read', () => {
    let tapped: ((e: object) => void) | null = null;
    let onUplink: ((e: object) => void) | null = null;
    const es = new EventStream({
      stats: () => ({ queries: 1 }),
      queries: (emit) => { tapped = emit; return () => { tapped = null; }; },
      uplinks: (emit) => { onUplink = emit; return () => { onUplink = null; }; },
    });
    expect(tapped).toBeNull(); // nobody watching: no tap on the query path
    const a = new FakeResponse();
    es.attach(req(), a as unknown as http.ServerResponse);
    expect(a.text).toContain('event: stats\ndata: {"queries":1}');
    tapped!({ name: 'printer.home.arpa' });
    onUplink!({ uplink: 'fibre', to: 'down', reason: 'carrier lost' });
    expect(a.text).toMatch(/id: 2\nevent: query\ndata: \{"name":"printer.home.arpa"\}/);
    expect(a.text).toMatch(/id: 3\nevent: uplink\ndata: .*carrier lost/);
    // A reconnect after id 2 gets id 3 again, not 1 or 2.
    const b = new FakeResponse();
    es.attach(req(2), b as unknown as http.ServerResponse);
    expect(b.text).toContain('id: 3\n');
    expect(b.text).not.toContain('id: 2\n');
    // A client that stopped reading is cut off past 256 KB; the others keep their feed.
    const stuck = new FakeResponse(true);
    es.attach(req(), stuck as unknown as http.ServerResponse);
    for (let i = 0; i < 3000; i++) tapped!({ name: `n${i}.example`, pad: 'x'.repeat(100) });
    expect(stuck.destroyed).toBe(true);
    expect(es.counts.cutOff).toBe(1);
    expect(a.destroyed).toBe(false);
    expect(a.text).toContain('n2999.example');
    a.destroy();
    b.destroy();
    expect(tapped).toBeNull(); // the last one gone: the tap is off again
    es.close();
  });
});
