/**
 * The dashboard's files, read once at start and kept gzipped: the page and its stylesheet from
 * `web/static/`, its scripts as `npm run build` compiled them to `dist/web/`. Nothing comes from
 * anywhere else (no CDN), and every page carries a CSP that allows only these files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STATIC = join(ROOT, 'web', 'static');
const SCRIPTS = join(ROOT, 'dist', 'web');

/** No inline script or style anywhere; QR codes are data: images; nobody may frame the page. */
export const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer a form's POST carries "Origin: null"
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  type: string;
  raw: Buffer;
  gzip: Buffer;
  etag: string;
}

function asset(name: string, raw: Buffer): Asset {
  const ext = name.slice(name.lastIndexOf('.'));
  return { type: TYPES[ext] ?? 'application/octet-stream', raw, gzip: gzipSync(raw, { level: 9 }), etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 16)}"` };
}

export class DashboardAssets {
  private readonly files = new Map<string, Asset>();
  /** why the page cannot be served (not built), or null */
  readonly missing: string | null;

  constructor() {
    if (!existsSync(join(SCRIPTS, 'app.js'))) {
      this.missing = `the dashboard's scripts are not built (${SCRIPTS}): run npm run build`;
      return;
    }
    this.missing = null;
    for (const f of readdirSync(STATIC)) this.files.set(`/${f}`, asset(f, readFileSync(join(STATIC, f))));
    for (const f of readdirSync(SCRIPTS, { recursive: true }) as string[]) {
      if (f.endsWith('.js')) this.files.set(`/${f.replaceAll('\\', '/')}`, asset(f, readFileSync(join(SCRIPTS, f))));
    }
    this.files.set('/', this.files.get('/index.html')!);
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  /** Bytes on the wire for the whole page, gzipped (the issue's budget: 150 KB). */
  gzippedTotal(): number {
    let n = 0;
    for (const [path, a] of this.files) if (path !== '/') n += a.gzip.length;
    return n;
  }

  serve(req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
    const a = this.files.get(path)!;
    const headers: Record<string, string | number> = { ...PAGE_HEADERS, 'content-type': a.type, etag: a.etag, 'cache-control': 'no-cache', vary: 'accept-encoding' };
    if (req.headers['if-none-match'] === a.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gz ? a.gzip : a.raw;
    res.writeHead(200, { ...headers, 'content-length': body.length, ...(gz ? { 'content-encoding': 'gzip' } : {}) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The login form: plain HTML, no script; `message` says why it is shown again. */
export function loginPage(message: string | null): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgedns — log in</title><link rel="stylesheet" href="/style.css"></head>
<body class="login"><main><h1>edgedns</h1>
<form method="post" action="/login" class="card">
<label for="token">Admin token <small>(the contents of <code>admin.token-file</code>)</small></label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
${message ? `<p class="error" role="alert">${escape(message)}</p>` : ''}
<button type="submit">Log in</button>
</form></main></body></html>
`;
}
