/** Reads a running edgedns's admin API over its unix socket. */
import http from 'node:http';

export function adminText(socket: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath: socket, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

export async function adminGet(socket: string, path: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.parse(await adminText(socket, path));
}
