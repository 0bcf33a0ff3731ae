/**
 * The one place the WireGuard room runs host tools: `wg` and `ip` through the host port, and
 * `wireguard-go`, which must outlive edgedns (so it is spawned detached, here). Rendering stays
 * pure elsewhere; this file only executes.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemHost, type HostPort } from '../host/host-port.js';
import { WgError } from './wg-model.js';

export function run(cmd: 'wg' | 'ip', args: string[], host: HostPort = systemHost): Promise<string> {
  return host.run(cmd, args);
}

/**
 * Runs `wg` with a config that holds keys, through a file only root can read (mode 0600 in a
 * 0700 folder), removed afterwards. Not /dev/stdin: Node's stdio pipes are socketpairs, and
 * `wg` cannot fopen() a socket.
 */
export async function runWithSecretFile(args: (file: string) => string[], content: string, host: HostPort = systemHost): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'edgedns-wg-'));
  const file = join(dir, 'wg.conf');
  try {
    writeFileSync(file, content, { mode: 0o600 });
    return await run('wg', args(file), host);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function runJson<T>(args: string[], host: HostPort = systemHost): Promise<T> {
  return run('ip', ['-j', ...args], host).then((out) => (out.trim() ? JSON.parse(out) : []) as T);
}

/**
 * Starts wireguard-go in the foreground mode, detached, so it outlives edgedns (remote users stay
 * connected across a restart) and its PID is known. Resolves once its UAPI socket answers.
 */
export async function startWireguardGo(ifname: string, timeoutMs = 5000): Promise<number> {
  // Its output goes to a file, not a pipe: it outlives us, and a Go program writing to a closed
  // pipe dies of SIGPIPE. The file explains a failure to start.
  const logFile = join(tmpdir(), `edgedns-wireguard-go-${ifname}.log`);
  const fd = openSync(logFile, 'a', 0o600);
  const child = spawn('wireguard-go', ['-f', ifname], {
    detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
  });
  closeSync(fd);
  const said = () => {
    try {
      return readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' / ');
    } catch {
      return '';
    }
  };
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new WgError('WG_TOOL_FAILED', (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'wireguard-go is not installed and the kernel has no WireGuard' : `wireguard-go: ${e.message}`, { cause: e })));
    child.once('exit', (code) => reject(new WgError('WG_TOOL_FAILED', `wireguard-go ${ifname} exited with ${code} before the interface came up: ${said()} (${logFile})`)));
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const up = await Promise.race([run('wg', ['show', ifname, 'listen-port']).then(() => true, () => false), failed]);
    if (up) break;
    if (Date.now() > deadline) {
      child.kill();
      throw new WgError('WG_TOOL_FAILED', `wireguard-go ${ifname}: no UAPI socket after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.removeAllListeners();
  child.unref();
  return child.pid!;
}
