/**
 * Who may do what on `admin.http` (the unix socket's file mode is its own control):
 *
 * - An API client proves itself with `Authorization: Bearer <token>`; a wrong token gets 401.
 * - A browser logs in once on the dashboard's form and then carries a session cookie (random,
 *   HttpOnly, SameSite=Strict, held in memory for 7 days). Anything a page sends (it has an
 *   `Origin`) must come from the page's own origin, and a write from a page needs the session:
 *   403 otherwise. That is the CSRF rule.
 * - Without `admin.token-file` (loopback only) reads and writes are open to local API clients;
 *   pages still need the same origin. On loopback a request whose Host is a name rather than an
 *   address (or localhost) is refused: a DNS-rebinding page would carry its own name.
 * - With a token: POSTs need the token or the session. GETs stay open on loopback (the CLI reads
 *   there) and need one of the two on any other address, except `/metrics` (Prometheus).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { isIP } from 'node:net';

export const SESSION_COOKIE = 'edgedns_session';
const SESSION_MS = 7 * 24 * 3600 * 1000;
const MAX_SESSIONS = 256;
const LOGIN_FAILURES_PER_MINUTE = 10;

export type Verdict =
  | { ok: true; session: boolean }
  | { ok: false; status: 401 | 403; error: string };

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(req: http.IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** `Host` without its port; brackets of an IPv6 literal removed. */
function hostOnly(host: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (m) return m[1];
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

/** Browsers send Origin on writes (and Sec-Fetch-Mode, to localhost and https); API clients send neither. */
function isBrowser(req: http.IncomingMessage): boolean {
  return req.headers.origin !== undefined || req.headers['sec-fetch-mode'] !== undefined;
}

export class AdminAccess {
  /** session id → expiry (ms) */
  private readonly sessions = new Map<string, number>();
  private failures: { minute: number; byClient: Map<string, number> } = { minute: 0, byClient: new Map() };
  readonly counts = { logins: 0, loginFailures: 0, refused: 0 };

  constructor(private readonly token: string | null, private readonly loopback: boolean) {}

  /** The dashboard needs a login (the form) before it shows anything. */
  get needsLogin(): boolean {
    return this.token !== null;
  }

  hasSession(req: http.IncomingMessage): boolean {
    const id = cookie(req, SESSION_COOKIE);
    if (id === undefined) return false;
    const until = this.sessions.get(id);
    if (until === undefined) return false;
    if (until < Date.now()) {
      this.sessions.delete(id);
      return false;
    }
    return true;
  }

  /** A request from a page of another origin, or (on loopback) one that names us by a host name. */
  private crossOrigin(req: http.IncomingMessage): string | null {
    const origin = req.headers.origin;
    const host = req.headers.host ?? '';
    if (origin !== undefined && origin !== `http://${host}`) return `cross-origin request from ${origin}`;
    // DNS rebinding: a page whose name now points at 127.0.0.1 sends its own name as Host, and
    // over plain http a browser marks nothing else. On loopback an address or localhost is what
    // the CLI and an operator use; elsewhere every request needs the token or the session anyway.
    if (this.loopback) {
      const h = hostOnly(host);
      if (h !== 'localhost' && isIP(h) === 0) return `Host ${host} is not an address: open the dashboard by its address`;
    }
    return null;
  }

  check(req: http.IncomingMessage, path: string): Verdict {
    const auth = req.headers.authorization;
    if (auth !== undefined && this.token !== null) {
      if (auth.startsWith('Bearer ') && sameToken(auth.slice(7), this.token)) return { ok: true, session: false };
      return this.refuse(401, 'wrong token in Authorization (admin.token-file)');
    }
    const session = this.hasSession(req);
    const cross = this.crossOrigin(req);
    if (cross !== null) return this.refuse(403, cross);
    const write = req.method !== 'GET' && req.method !== 'HEAD';
    if (write && req.headers.origin === undefined && session) {
      // Every browser sends Origin on a POST; a cookie without one is not our page.
      return this.refuse(403, 'a write with the session cookie needs its Origin header');
    }
    if (this.token === null || session) return { ok: true, session };
    // A page (it says where it comes from) is told to log in: 403. An API client, to send the token: 401.
    const page = isBrowser(req);
    if (write) {
      return page
        ? this.refuse(403, 'log in on the dashboard first')
        : this.refuse(401, 'POST needs Authorization: Bearer <token> (admin.token-file)');
    }
    if (this.loopback || path === '/metrics') return { ok: true, session: false };
    return page
      ? this.refuse(403, 'log in on the dashboard first')
      : this.refuse(401, 'this admin address needs Authorization: Bearer <token> (admin.token-file)');
  }

  private refuse(status: 401 | 403, error: string): Verdict {
    this.counts.refused++;
    return { ok: false, status, error };
  }

  /**
   * The login form's POST: the token for a session cookie (the Set-Cookie value), or why not.
   * Ten wrong tokens a minute from one address, and that address waits for the next minute.
   */
  login(req: http.IncomingMessage, given: string, client: string): { cookie: string } | { status: 401 | 403 | 429; error: string } {
    const cross = this.crossOrigin(req);
    if (cross !== null || req.headers.origin === undefined) return { status: 403, error: cross ?? 'the login form posts from the dashboard page' };
    const minute = Math.floor(Date.now() / 60_000);
    if (this.failures.minute !== minute) this.failures = { minute, byClient: new Map() };
    const failed = this.failures.byClient.get(client) ?? 0;
    if (failed >= LOGIN_FAILURES_PER_MINUTE) return { status: 429, error: 'too many wrong tokens: wait a minute' };
    if (this.token === null || !sameToken(given.trim(), this.token)) {
      this.failures.byClient.set(client, failed + 1);
      this.counts.loginFailures++;
      return { status: 401, error: 'wrong token' };
    }
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, Date.now() + SESSION_MS);
    this.counts.logins++;
    return { cookie: `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_MS / 1000}` };
  }

  logout(req: http.IncomingMessage): string {
    const id = cookie(req, SESSION_COOKIE);
    if (id !== undefined) this.sessions.delete(id);
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }
}
