import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { AclGate } from './acl-gate.js';
import type { ListenerDeps } from './query-handler.js';
import { PendingReply } from '../resolve/pending-reply.js';
import { StreamSession } from './stream-session.js';

/** The socket's side the session uses, recording each write (a real socket is in the TCP/DoT tests). */
class FakeSocket extends EventEmitter {
  writes: Buffer[] = [];
  destroyed = false;
  writable = true;
  setNoDelay() { return this; }
  setTimeout() { return this; }
  pause() { return this; }
  resume() { return this; }
  end() { return this; }
  destroy() { this.destroyed = true; return this; }
  write(b: Buffer) { this.writes.push(Buffer.from(b)); return true; }
}

const framed = (msgs: Buffer[]) => Buffer.concat(msgs.flatMap((m) => [Buffer.from([m.length >> 8, m.length & 255]), m]));
const unframe = (b: Buffer) => {
  const out: string[] = [];
  for (let at = 0; at < b.length; at += 2 + b.readUInt16BE(at)) out.push(b.subarray(at + 2, at + 2 + b.readUInt16BE(at)).toString());
  return out;
};

describe('StreamSession', () => {
  it('writes the answers ready in one turn in one write: several chunks\' worth, then those that came back later', async () => {
    const sock = new FakeSocket();
    const deps: ListenerDeps = {
      // "q…" answered at once, "slow…" a moment later: like cache hits and upstream answers
      handler: { handle: (q) => (q.toString().startsWith('slow') ? PendingReply.from(Promise.resolve(Buffer.from(`A-${q}`))) : Buffer.from(`A-${q}`)), refuse: () => null },
      gate: new AclGate([]), onError: (e) => { throw e; }, limits: () => ({ idleMs: 1000, maxConnections: 10 }),
    };
    new StreamSession(sock as unknown as net.Socket, { address: '127.0.0.1', port: 1, transport: 'tcp', padBlock: 0 } as never, false, deps, 1000, 'test');
    sock.emit('data', framed(['q1', 'q2', 'slow1'].map((s) => Buffer.from(s))));
    expect(unframe(sock.writes[0])).toEqual(['A-q1', 'A-q2']); // a pipelined batch: at once
    sock.emit('data', framed([Buffer.from('q3')])); // lone queries in the same turn: together
    sock.emit('data', framed([Buffer.from('slow2')]));
    expect(sock.writes).toHaveLength(1);
    await new Promise((r) => setImmediate(r));
    expect(sock.writes).toHaveLength(2);
    expect(unframe(sock.writes[1])).toEqual(['A-q3', 'A-slow1', 'A-slow2']);
    const later = deps.handler.handle.bind(deps.handler);
    deps.handler.handle = (q, c) => (q.toString() === 'late' ? PendingReply.from(new Promise((r) => setTimeout(() => r(Buffer.from('A-late')), 5))) : later(q, c));
    sock.emit('data', framed([Buffer.from('late'), Buffer.from('q4')]));
    await new Promise((r) => setImmediate(r));
    expect(unframe(sock.writes[2])).toEqual(['A-q4']);
    await new Promise((r) => setTimeout(r, 20));
    expect(unframe(sock.writes[3])).toEqual(['A-late']);
  });
});
