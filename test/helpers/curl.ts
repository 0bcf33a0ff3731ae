/** The real curl, for DoH and plain HTTP requests. */
import { execFile } from 'node:child_process';

export interface CurlResult {
  code: number;
  status: number;
  body: string;
  stderr: string;
  headers: string;
}

/** Runs curl with `-s -D -` so the response headers come first, then the body. */
export function curl(args: string[], timeoutMs = 10_000): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['-s', '-D', '-', '--max-time', '5', ...args], { timeout: timeoutMs, encoding: 'latin1', maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const split = stdout.indexOf('\r\n\r\n');
      const headers = split >= 0 ? stdout.slice(0, split) : '';
      const body = split >= 0 ? stdout.slice(split + 4) : stdout;
      const status = Number(/^HTTP\/[\d.]+ (\d+)/m.exec(headers)?.[1] ?? 0);
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, status, body, stderr, headers });
    });
  });
}
