/** Reads a running edgedns's admin API over its unix socket. */
import http from 'node:http';

export function adminText(socket: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // agent: false, a connection per request: Node 20's global agent keeps connections alive, and
    // one reused just as the server's keep-alive timeout closes it fails with EPIPE or ECONNRESET
    http.get({ socketPath: socket, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

export async function adminGet(socket: string, path: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.parse(await adminText(socket, path));
}

export interface LiveEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

/** Follows GET /events (Server-Sent Events) over the socket, collecting every event. */
export async function watchEvents(socket: string): Promise<{ events: LiveEvent[]; contentType: string | undefined; close: () => void; waitFor: (pred: (e: LiveEvent) => boolean, ms?: number) => Promise<LiveEvent | undefined> }> {
  const events: LiveEvent[] = [];
  const req = http.get({ socketPath: socket, path: '/events' });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => req.once('response', resolve).once('error', reject));
  let buf = '';
  res.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n\n'); i !== -1; i = buf.indexOf('\n\n')) {
      const fields = Object.fromEntries(buf.slice(0, i).split('\n').filter((l) => /^(id|event|data): /.test(l)).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
      buf = buf.slice(i + 2);
      if (fields.event) events.push({ id: Number(fields.id), event: fields.event, data: JSON.parse(fields.data) as Record<string, unknown> });
    }
  });
  const waitFor = async (pred: (e: LiveEvent) => boolean, ms = 5000) => {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      const e = events.find(pred);
      if (e) return e;
    }
    return events.find(pred);
  };
  return { events, contentType: res.headers['content-type'], close: () => req.destroy(), waitFor };
}
