/**
 * A WireGuard client in a namespace, the way a laptop would load the config `wg add-peer`
 * printed: a userspace wireguard-go (recipe §2: this kernel has no WireGuard module), `wg-quick
 * strip` for the wg part, then the Address lines and the routes the test asks for. Full-tunnel
 * AllowedIPs stay cryptokey routing only: the namespace routes just the tunnel prefixes, so the
 * underlay to the endpoint keeps working without wg-quick's fwmark tricks.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from './netns.js';

export function wgIfname(prefix: string): string {
  return `${prefix}${process.pid % 10000}${Math.floor(Math.random() * 1000)}`.slice(0, 15);
}

/** Starts `wireguard-go -f` in the namespace; resolves when `wg` can talk to it. */
export async function startWireguardGo(ns: Netns, ifname: string): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns.name, 'wireguard-go', '-f', ifname], {
    stdio: 'ignore', env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
  });
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('ip', ['netns', 'exec', ns.name, 'wg', 'show', ifname, 'listen-port'], { stdio: 'ignore' });
      return child;
    } catch { await new Promise((r) => setTimeout(r, 50)); }
  }
  child.kill();
  throw new Error(`wireguard-go ${ifname} did not come up`);
}

/** Kill a wireguard-go by PID and remove its UAPI socket (on the filesystem every namespace shares). */
export function stopWireguardGo(pid: number | undefined, ifname: string): void {
  if (pid !== undefined) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch { /* gone already */ }
  }
  rmSync(`/var/run/wireguard/${ifname}.sock`, { force: true });
  rmSync(join(tmpdir(), `edgedns-wireguard-go-${ifname}.log`), { force: true }); // edgedns's, when it started it
}

export class WgClient {
  private constructor(readonly ns: Netns, readonly ifname: string, private readonly child: ChildProcess) {}

  static async load(ns: Netns, ifname: string, conf: string, routes: string[]): Promise<WgClient> {
    const child = await startWireguardGo(ns, ifname);
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-wgc-'));
    try {
      const file = join(dir, `${ifname}.conf`);
      writeFileSync(file, conf, { mode: 0o600 });
      const stripped = execFileSync('wg-quick', ['strip', file], { encoding: 'utf8' });
      writeFileSync(join(dir, 'stripped.conf'), stripped, { mode: 0o600 });
      execFileSync('ip', ['netns', 'exec', ns.name, 'wg', 'setconf', ifname, join(dir, 'stripped.conf')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const addresses = /^Address = (.+)$/m.exec(conf)![1].split(',').map((a) => a.trim());
    for (const a of addresses) ns.ip('address', 'add', a, 'dev', ifname);
    ns.ip('link', 'set', ifname, 'mtu', '1420', 'up');
    for (const r of routes) ns.ip(r.includes(':') ? '-6' : '-4', 'route', 'add', r, 'dev', ifname);
    return new WgClient(ns, ifname, child);
  }

  stop(): void {
    stopWireguardGo(this.child.pid, this.ifname);
  }
}
