/**
 * System packages the integration tests use. Missing → the suite skips with a one-line reason,
 * unless EDGEDNS_REQUIRE_SYSTEM=1 (set by .ci/run), where a missing package fails the run.
 */
import { execFileSync } from 'node:child_process';

export function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The Debian package that brings a command, for the skip line. */
const PACKAGES: Record<string, string> = {
  dig: 'bind9-dnsutils', nsupdate: 'bind9-dnsutils', kdig: 'knot-dnsutils', knotd: 'knot', unbound: 'unbound', ip: 'iproute2',
  ping: 'iputils-ping', tc: 'iproute2', 'wg-quick': 'wireguard-tools', nft: 'nftables', conntrack: 'conntrack', keepalived: 'keepalived', 'kea-dhcp4': 'kea-dhcp4-server',
  'kea-dhcp6': 'kea-dhcp6-server', 'kea-dhcp-ddns': 'kea-dhcp-ddns-server', busybox: 'busybox', dhclient: 'isc-dhcp-client',
  'wireguard-go': 'wireguard-go', wg: 'wireguard-tools', zbarimg: 'zbar-tools', chromium: 'chromium', nghttp: 'nghttp2-client',
  h2load: 'nghttp2-client', curl: 'curl', openssl: 'openssl', ethtool: 'ethtool', setpriv: 'util-linux', taskset: 'util-linux',
};

/** The reason to skip, or null when every command is there. Throws under EDGEDNS_REQUIRE_SYSTEM=1. */
export function missing(...cmds: string[]): string | null {
  const absent = cmds.filter((c) => !have(c));
  if (absent.length === 0) return null;
  const reason = `needs ${absent.join(', ')} (apt-get install ${[...new Set(absent.map((c) => PACKAGES[c] ?? c))].join(' ')})`;
  if (process.env.EDGEDNS_REQUIRE_SYSTEM === '1') throw new Error(`EDGEDNS_REQUIRE_SYSTEM=1 but ${reason}`);
  console.warn(`skipping: ${reason}`);
  return reason;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** As `missing`, and also needs root (network namespaces, dropping privileges). */
export function missingOrNotRoot(...cmds: string[]): string | null {
  const m = missing(...cmds);
  if (m) return m;
  if (!isRoot()) {
    if (process.env.EDGEDNS_REQUIRE_SYSTEM === '1') throw new Error('EDGEDNS_REQUIRE_SYSTEM=1 but not root (network namespaces need root)');
    console.warn('skipping: needs root (network namespaces)');
    return 'not root';
  }
  return null;
}
