/**
 * Brings the host's WireGuard interface to the rendered config: create it (kernel, else
 * wireguard-go), `wg syncconf`, addresses, MTU, up, and site-to-site routes. Idempotent: it reads
 * what is there and changes only the difference (routes and addresses it no longer wants go).
 */
import { ipaddr } from '../cjs.js';
import type { Logger } from 'pino';
import { renderServerConf, wantedRoutes, WG_ROUTE_PROTO, type Secrets } from './render.js';
import { systemHost, type HostPort } from '../host/host-port.js';
import { run, runJson, runWithSecretFile, startWireguardGo } from './wg-runner.js';
import { hostOf, WgError, type WgPeer, type WgSettings } from './wg-model.js';

export type Implementation = 'kernel' | 'wireguard-go';

export interface ApplyResult {
  implementation: Implementation;
  /** false: the interface was there already */
  created: boolean;
  /** the wireguard-go this call started */
  pid?: number;
  changes: string[];
}

interface IpLink { ifname: string; linkinfo?: { info_kind?: string } }
interface IpAddr { addr_info: Array<{ local: string; prefixlen: number; scope: string }> }
interface IpRoute { dst: string }

async function ensureInterface(host: HostPort, s: WgSettings, log: Logger): Promise<Omit<ApplyResult, 'changes'>> {
  const have = await runJson<IpLink[]>(['-d', 'link', 'show', 'dev', s.interface], host).catch(() => null);
  if (have && have.length > 0) {
    const kind = have[0].linkinfo?.info_kind;
    // A TUN device whose UAPI socket does not answer is not a working userspace tunnel.
    await run('wg', ['show', s.interface, 'listen-port'], host).catch((e: Error) => {
      throw new WgError('WG_TOOL_FAILED', `${s.interface} exists but wg cannot talk to it: ${e.message}`, { cause: e });
    });
    return { implementation: kind === 'wireguard' ? 'kernel' : 'wireguard-go', created: false };
  }
  try {
    await run('ip', ['link', 'add', s.interface, 'type', 'wireguard'], host);
    log.info({ interface: s.interface }, 'wireguard: kernel interface created');
    return { implementation: 'kernel', created: true };
  } catch (e) {
    const pid = await startWireguardGo(s.interface).catch(async (first: Error) => {
      // Seen once in a loaded test run and not reproduced: wireguard-go exiting at start. One
      // more try costs nothing; its own words (kept in its log file) go to our log.
      log.warn({ interface: s.interface, err: first.message }, 'wireguard-go did not start; trying once more');
      await new Promise((r) => setTimeout(r, 200));
      return startWireguardGo(s.interface);
    });
    log.info({ interface: s.interface, pid, kernel: (e as Error).message }, 'wireguard: the kernel has no WireGuard; running wireguard-go');
    return { implementation: 'wireguard-go', created: true, pid };
  }
}

/** What the host has of the tunnel now: the interface, its addresses, our routes through it. */
export interface TunnelState {
  exists: boolean;
  addresses: string[];
  routes: { 4: string[]; 6: string[] };
}

export const NO_TUNNEL: TunnelState = { exists: false, addresses: [], routes: { 4: [], 6: [] } };

export async function readTunnel(s: WgSettings, host: HostPort = systemHost): Promise<TunnelState> {
  const link = await runJson<IpLink[]>(['-d', 'link', 'show', 'dev', s.interface], host).catch(() => null);
  if (!link || link.length === 0) return NO_TUNNEL;
  const [info] = await runJson<IpAddr[]>(['addr', 'show', 'dev', s.interface], host);
  const routes = { 4: [] as string[], 6: [] as string[] };
  for (const family of [4, 6] as const) {
    routes[family] = (await runJson<IpRoute[]>([`-${family}`, 'route', 'show', 'dev', s.interface, 'proto', String(WG_ROUTE_PROTO)], host))
      .map((r) => (r.dst.includes('/') ? r.dst : `${r.dst}/${family === 4 ? 32 : 128}`));
  }
  return { exists: true, addresses: (info?.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`), routes };
}

/** One step of bringing the tunnel to the config; `change` is what the log and the result say. */
export type TunnelStep =
  | { kind: 'create' }
  | { kind: 'syncconf'; conf: string }
  | { kind: 'ip'; args: string[]; change?: string };

/**
 * Pure: the steps from `have` to the config — apply runs exactly these, and `--dry-run` prints
 * them (with the keys' file names in place of the keys).
 */
export function planTunnel(s: WgSettings, peers: WgPeer[], secrets: Secrets, have: TunnelState): TunnelStep[] {
  const i = s.interface;
  const steps: TunnelStep[] = [];
  if (!have.exists) steps.push({ kind: 'create' });
  steps.push({ kind: 'syncconf', conf: renderServerConf(s, peers, secrets) });
  const key = (c: string) => {
    const [a, len] = ipaddr.parseCIDR(c);
    return `${a.toString()}/${len}`;
  };
  const want = new Set(s.addresses.map(key));
  for (const a of have.addresses) if (!want.has(key(a))) steps.push({ kind: 'ip', args: ['address', 'del', a, 'dev', i], change: `address ${a} removed` });
  for (const a of s.addresses) {
    if (!have.addresses.some((h) => key(h) === key(a))) steps.push({ kind: 'ip', args: ['address', 'replace', a, 'dev', i], change: `address ${a} added` });
  }
  steps.push({ kind: 'ip', args: ['link', 'set', i, 'mtu', String(s.mtu), 'up'] });
  const routes = wantedRoutes(s, peers);
  for (const family of [4, 6] as const) {
    const mine = routes.filter((r) => r.family === family).map((r) => r.prefix);
    for (const dst of have.routes[family]) {
      if (!mine.includes(dst)) steps.push({ kind: 'ip', args: [`-${family}`, 'route', 'del', dst, 'dev', i, 'proto', String(WG_ROUTE_PROTO)], change: `route ${dst} removed` });
    }
    for (const dst of mine) {
      if (!have.routes[family].includes(dst)) steps.push({ kind: 'ip', args: [`-${family}`, 'route', 'replace', dst, 'dev', i, 'proto', String(WG_ROUTE_PROTO)], change: `route ${dst} added` });
    }
  }
  return steps;
}

/** The plan as a person reads it (`wg apply --dry-run`). */
export function formatTunnelPlan(s: WgSettings, steps: TunnelStep[]): string[] {
  return steps.flatMap((st) => {
    if (st.kind === 'create') return [`ip link add ${s.interface} type wireguard    # when the kernel has no WireGuard: wireguard-go ${s.interface}`];
    if (st.kind === 'syncconf') {
      return [`wg syncconf ${s.interface} CONF    # CONF: a mode-0600 temporary file holding`, ...st.conf.trimEnd().split('\n').map((l) => `#   ${l}`)];
    }
    return [`ip ${st.args.join(' ')}`];
  });
}

/** `wg apply --dry-run`: the plan apply would run from `have`, with the keys' files named instead of the keys. */
export function dryRunPlan(s: WgSettings, peers: WgPeer[], have: TunnelState): string {
  const placeholders: Secrets = {
    privateKey: `(the key in ${s.privateKeyFile})`,
    psk: (p) => (p.presharedKeyFile ? `(the key in ${p.presharedKeyFile})` : undefined),
  };
  return [
    ...formatTunnelPlan(s, planTunnel(s, peers, placeholders, have)),
    `# peers' names: ${peers.map((p) => `${p.name}.${s.nameSuffix} → ${p.addresses.map(hostOf).join(', ')}`).join('; ') || '(no peers)'}`,
    '',
  ].join('\n');
}

export async function applyTunnel(s: WgSettings, peers: WgPeer[], secrets: Secrets, log: Logger, host: HostPort = systemHost): Promise<ApplyResult> {
  const have = await readTunnel(s, host);
  const iface = await ensureInterface(host, s, log);
  const changes: string[] = iface.created ? [`interface ${s.interface} created (${iface.implementation})`] : [];
  for (const step of planTunnel(s, peers, secrets, have)) {
    if (step.kind === 'create') continue; // done by ensureInterface, which also picks the implementation
    if (step.kind === 'syncconf') await runWithSecretFile((file) => ['syncconf', s.interface, file], step.conf, host);
    else {
      await run('ip', step.args, host);
      if (step.change) changes.push(step.change);
    }
  }
  return { ...iface, changes };
}
