/**
 * The one port to the host: run a tool (`ip`, `tc`, `nft`, `wg`, `ethtool`, `openssl`, `ping`),
 * read a file of /sys or /proc, write a sysctl. Rooms plan (pure) → reconcile against what is installed → run,
 * and reach the host only through this interface, so tests hand them a recording port.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { EdgeError } from '../errors.js';

export interface RunOptions {
  /** written to the tool's stdin (nft -f -, ip -batch -, tc -batch -) */
  input?: string;
  timeoutMs?: number;
}

export interface HostPort {
  /** The tool's stdout; rejects with a HostError (the tool missing, or failing with its stderr). */
  run(cmd: string, args: string[], opts?: RunOptions): Promise<string>;
  /** A file's text, or null when it cannot be read. */
  read(path: string): string | null;
  /** Write a file of /proc/sys (a sysctl); rejects with a HostError. */
  write(path: string, text: string): Promise<void>;
}

export type HostErrorCode = 'HOST_MISSING' | 'HOST_FAILED';

export class HostError extends EdgeError<HostErrorCode> {
  constructor(
    code: HostErrorCode, message: string, readonly tool: string, readonly stderr = '', options?: { cause?: unknown },
    /** what the tool printed before it failed (ping prints its statistics and exits 1) */
    readonly stdout = '',
  ) {
    super(code, message, options);
  }
}

/** The Debian package that brings a tool, for the "not installed" message. */
const PACKAGES: Record<string, string> = {
  ip: 'iproute2', tc: 'iproute2', nft: 'nftables', wg: 'wireguard-tools', 'wireguard-go': 'wireguard-go',
  ethtool: 'ethtool', openssl: 'openssl', ping: 'iputils-ping', conntrack: 'conntrack',
};

export const systemHost: HostPort = {
  run(cmd, args, opts = {}) {
    return new Promise((resolve, reject) => {
      const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 10_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          return reject(new HostError('HOST_MISSING', `${cmd} (${PACKAGES[cmd] ?? cmd}) is not installed`, cmd, '', { cause: err }));
        }
        const first = stderr.trim().split('\n')[0] || err.message;
        reject(new HostError('HOST_FAILED', `${cmd} ${args.join(' ')}: ${first}`, cmd, stderr, { cause: err }, stdout));
      });
      if (opts.input !== undefined) child.stdin!.end(opts.input);
    });
  },
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  },
  async write(path, text) {
    await writeFile(path, text).catch((e: Error) => {
      throw new HostError('HOST_FAILED', `write ${path}: ${e.message}`, 'write', e.message, { cause: e });
    });
  },
};
