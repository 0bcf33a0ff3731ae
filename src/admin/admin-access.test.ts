import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { AdminAccess, SESSION_COOKIE } from './admin-access.js';

const TOKEN = 's3cret-token';

function req(method: string, headers: Record<string, string> = {}): http.IncomingMessage {
  return { method, headers: { host: '192.168.1.1:9153', ...headers } } as unknown as http.IncomingMessage;
}

const page = { origin: 'http://192.168.1.1:9153' };

function loggedIn(a: AdminAccess): string {
  const r = a.login(req('POST', page), TOKEN, '192.168.1.7');
  if (!('cookie' in r)) throw new Error(r.error);
  return r.cookie.split(';')[0];
}

describe('admin access: token, session cookie, origin', () => {
  it('an API client proves itself with the bearer token; a wrong one is 401', () => {
    const a = new AdminAccess(TOKEN, false);
    expect(a.check(req('POST', { authorization: `Bearer ${TOKEN}` }), '/reload')).toEqual({ ok: true, session: false });
    expect(a.check(req('GET', { authorization: `Bearer ${TOKEN}` }), '/stats')).toEqual({ ok: true, session: false });
    expect(a.check(req('POST', { authorization: 'Bearer nope' }), '/reload')).toMatchObject({ ok: false, status: 401 });
    expect(a.check(req('POST'), '/reload')).toMatchObject({ ok: false, status: 401 });
  });

  it('on a LAN address reads need the token or a login too, except /metrics', () => {
    const a = new AdminAccess(TOKEN, false);
    expect(a.check(req('GET'), '/stats')).toMatchObject({ ok: false, status: 401 });
    expect(a.check(req('GET'), '/metrics')).toEqual({ ok: true, session: false });
    // loopback keeps reads open (the CLI), writes still need the token
    const lo = new AdminAccess(TOKEN, true);
    expect(lo.check(req('GET', { host: '127.0.0.1:9153' }), '/stats')).toEqual({ ok: true, session: false });
    expect(lo.check(req('POST', { host: '127.0.0.1:9153' }), '/reload')).toMatchObject({ ok: false, status: 401 });
  });

  it('the login sets an HttpOnly, SameSite=Strict cookie that then lets the page read and write', () => {
    const a = new AdminAccess(TOKEN, false);
    const r = a.login(req('POST', page), TOKEN, '192.168.1.7');
    expect('cookie' in r && r.cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[\\w-]{43}; HttpOnly; SameSite=Strict; Path=/; Max-Age=604800$`));
    const cookie = loggedIn(a);
    expect(a.check(req('GET', { cookie }), '/stats')).toEqual({ ok: true, session: true });
    expect(a.check(req('POST', { cookie, ...page }), '/cache/flush')).toEqual({ ok: true, session: true });
    expect(a.check(req('GET', { cookie: `${SESSION_COOKIE}=made-up` }), '/stats')).toMatchObject({ ok: false });
    a.logout(req('POST', { cookie }));
    expect(a.check(req('GET', { cookie }), '/stats')).toMatchObject({ ok: false });
  });

  it('CSRF: a write with the cookie from another origin, or with no Origin at all, is 403', () => {
    const a = new AdminAccess(TOKEN, false);
    const cookie = loggedIn(a);
    expect(a.check(req('POST', { cookie, origin: 'http://evil.example' }), '/reload')).toMatchObject({ ok: false, status: 403 });
    expect(a.check(req('POST', { cookie }), '/reload')).toMatchObject({ ok: false, status: 403 });
    expect(a.check(req('POST', { ...page }), '/reload')).toMatchObject({ ok: false, status: 403, error: 'log in on the dashboard first' });
    // a login form posted from elsewhere gets no session
    expect(a.login(req('POST', { origin: 'http://evil.example' }), TOKEN, '192.168.1.7')).toMatchObject({ status: 403 });
    expect(a.login(req('POST'), TOKEN, '192.168.1.7')).toMatchObject({ status: 403 });
  });

  it('without a token (loopback): open to local clients, but not to other origins or to a name (DNS rebinding)', () => {
    const a = new AdminAccess(null, true);
    const lo = { host: '127.0.0.1:9153' };
    expect(a.needsLogin).toBe(false);
    expect(a.check(req('POST', lo), '/cache/flush')).toEqual({ ok: true, session: false });
    expect(a.check(req('POST', { ...lo, origin: 'http://127.0.0.1:9153' }), '/cache/flush')).toEqual({ ok: true, session: false });
    expect(a.check(req('POST', { ...lo, origin: 'http://evil.example' }), '/cache/flush')).toMatchObject({ ok: false, status: 403 });
    expect(a.check(req('GET', { host: 'rebound.evil.example:9153' }), '/stats')).toMatchObject({ ok: false, status: 403 });
    expect(a.check(req('GET', { host: 'localhost:9153' }), '/stats')).toEqual({ ok: true, session: false });
    expect(a.check(req('GET', { host: '[::1]:9153' }), '/stats')).toEqual({ ok: true, session: false });
  });

  it('ten wrong tokens a minute from one address, then 429 even for the right one', () => {
    const a = new AdminAccess(TOKEN, false);
    for (let i = 0; i < 10; i++) expect(a.login(req('POST', page), 'guess', '192.168.1.66')).toMatchObject({ status: 401 });
    expect(a.login(req('POST', page), TOKEN, '192.168.1.66')).toMatchObject({ status: 429 });
    expect('cookie' in a.login(req('POST', page), TOKEN, '192.168.1.7')).toBe(true); // others are not locked out
    expect(a.counts.loginFailures).toBe(10);
  });
});
