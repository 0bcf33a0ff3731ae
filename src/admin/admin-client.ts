/**
 * How the CLI reaches a running server: `--admin URL` (http://HOST:PORT, or unix:/path or a
 * path for the socket), else `admin` in `-c FILE` (the socket first when it answers), else the
 * default http://127.0.0.1:9153.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { Config } from '../config/types.js';

export interface AdminTarget {
  /** what to show in messages */
  label: string;
  socketPath?: string;
  host?: string;
  port?: number;
  token?: string;
}

export const DEFAULT_ADMIN = '127.0.0.1:9153';

export function targetFromUrl(url: string): AdminTarget {
  if (url.startsWith('unix:') || url.startsWith('/')) {
    const path = url.replace(/^unix:/, '');
    return { label: `unix:${path}`, socketPath: path };
  }
  const u = new URL(url.includes('://') ? url : `http://${url}`);
  return { label: `http://${u.host}`, host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 9153) };
}

/** Every place to try, in order. */
export function targetsFor(opts: { admin?: string; config?: Config }): AdminTarget[] {
  if (opts.admin) return [targetFromUrl(opts.admin)];
  const a = opts.config?.admin;
  const token = a?.tokenFile && existsSync(a.tokenFile) ? readFileSync(a.tokenFile, 'utf8').trim() : undefined;
  const out: AdminTarget[] = [];
  if (a?.socket) out.push({ label: `unix:${a.socket}`, socketPath: a.socket });
  out.push({ ...targetFromUrl(a?.http ?? DEFAULT_ADMIN), token });
  return out;
}

export interface AdminResponse {
  status: number;
  body: string;
}

export function request(t: AdminTarget, method: string, path: string, body?: object): Promise<AdminResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({
      method, path, socketPath: t.socketPath, host: t.host, port: t.port, timeout: 5000,
      headers: {
        ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        ...(t.token ? { authorization: `Bearer ${t.token}` } : {}),
      },
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Try each target; the first that answers wins. Rejects with every place it looked. */
export async function requestAny(targets: AdminTarget[], method: string, path: string, body?: object): Promise<AdminResponse> {
  const errors: string[] = [];
  for (const t of targets) {
    try {
      return await request(t, method, path, body);
    } catch (e) {
      errors.push(`${t.label} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  throw Object.assign(new Error(`cannot reach the edgedns admin API; looked at ${errors.join(', ')}.
Is edgedns running? Point at it with --admin http://HOST:PORT or --admin unix:/path/to/admin.sock, or -c FILE to use its admin settings.`), { code: 'ADMIN_UNREACHABLE' });
}
