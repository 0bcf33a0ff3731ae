/** Test certificates, made by edgedns's own `cert init` (CA + server cert for localhost, 127.0.0.1). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './edgedns-process.js';

export interface TestCerts {
  dir: string;
  ca: string;
  cert: string;
  key: string;
}

export function makeCerts(names = ['localhost'], dir = mkdtempSync(join(tmpdir(), 'edgedns-certs-'))): TestCerts {
  execFileSync(process.execPath, [BIN, 'cert', 'init', '--dir', dir, ...names.flatMap((n) => ['--name', n]), '--ip', '127.0.0.1', '--ip', '::1'], { stdio: 'ignore' });
  return { dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}
