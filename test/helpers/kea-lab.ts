/**
 * A DHCP lab in network namespaces the test creates: a gateway namespace running real kea-dhcp4
 * and kea-dhcp6 (and edgedns), a host namespace running real clients (busybox udhcpc, ISC
 * dhclient -6), joined by a veth pair. Everything is stopped by PID and removed afterwards.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Netns } from './netns.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export interface KeaTimers {
  /** seconds; busybox udhcpc treats anything under 16 as 16 when it schedules renewals */
  validLifetime: number;
  /** the shortest lifetime a client may ask for (DHCP option 51) */
  minValidLifetime: number;
  renewTimer: number;
  rebindTimer: number;
  lfcInterval: number;
}

export class KeaLab {
  readonly gw = new Netns();
  readonly host = new Netns();
  readonly dir = mkdtempSync(join(tmpdir(), 'edgedns-kea-'));
  readonly leases4 = join(this.dir, 'leases4.csv');
  readonly leases6 = join(this.dir, 'leases6.csv');
  private readonly procs: ChildProcess[] = [];
  readonly logs = new Map<string, string[]>();

  constructor() {
    // No duplicate-address detection: kea-dhcp6 binds the link-local address at start, and a
    // tentative one fails with "Cannot assign requested address".
    for (const ns of [this.gw, this.host]) {
      for (const k of ['all', 'default']) execFileSync('ip', ['netns', 'exec', ns.name, 'sysctl', '-qw', `net.ipv6.conf.${k}.accept_dad=0`]);
    }
    this.gw.ip('link', 'add', 'kgw', 'type', 'veth', 'peer', 'name', 'khost', 'netns', this.host.name);
    this.gw.ip('addr', 'add', '192.168.50.1/24', 'dev', 'kgw');
    this.gw.ip('-6', 'addr', 'add', 'fd00:50::1/64', 'dev', 'kgw', 'nodad');
    this.gw.ip('link', 'set', 'kgw', 'up');
    this.host.ip('link', 'set', 'khost', 'up');
  }

  private spawnIn(ns: Netns, cmd: string[], log: string): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns.name, ...cmd], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KEA_PIDFILE_DIR: this.dir, KEA_LOCKFILE_DIR: this.dir },
    });
    const out: string[] = [];
    this.logs.set(log, out);
    child.stdout!.on('data', (d) => out.push(String(d)));
    child.stderr!.on('data', (d) => out.push(String(d)));
    child.on('exit', () => writeFileSync(join(this.dir, log), out.join('')));
    this.procs.push(child);
    return child;
  }

  /**
   * `ddns`: kea-dhcp4 sends name changes to a kea-dhcp-ddns (D2) on 127.0.0.1:`d2Port` of the
   * gateway namespace, which sends RFC 2136 UPDATEs, signed with `key`, to `dnsPort` there.
   */
  startKea(t: KeaTimers, ddns?: { d2Port: number; dnsPort: number; key: { name: string; secret: string } }): void {
    const expired = { 'reclaim-timer-wait-time': 1, 'hold-reclaimed-time': 30, 'flush-reclaimed-timer-wait-time': 5 };
    writeFileSync(join(this.dir, 'kea4.json'), JSON.stringify({
      Dhcp4: {
        'interfaces-config': { interfaces: ['kgw'], 'dhcp-socket-type': 'raw' },
        'lease-database': { type: 'memfile', persist: true, name: this.leases4, 'lfc-interval': t.lfcInterval },
        'expired-leases-processing': expired,
        'valid-lifetime': t.validLifetime, 'min-valid-lifetime': t.minValidLifetime, 'max-valid-lifetime': t.validLifetime,
        'renew-timer': t.renewTimer, 'rebind-timer': t.rebindTimer,
        'hostname-char-set': '[^A-Za-z0-9.-]', 'hostname-char-replacement': '-',
        ...(ddns ? {
          'dhcp-ddns': { 'enable-updates': true, 'server-ip': '127.0.0.1', 'server-port': ddns.d2Port, 'ncr-protocol': 'UDP', 'ncr-format': 'JSON' },
          'ddns-send-updates': true, 'ddns-override-client-update': true, 'ddns-override-no-update': true,
          'ddns-replace-client-name': 'never', 'ddns-qualifying-suffix': 'home.arpa.', 'ddns-update-on-renew': false,
        } : {}),
        subnet4: [{ id: 1, subnet: '192.168.50.0/24', pools: [{ pool: '192.168.50.100 - 192.168.50.150' }] }],
        loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'INFO' }],
      },
    }));
    writeFileSync(join(this.dir, 'kea6.json'), JSON.stringify({
      Dhcp6: {
        'data-directory': this.dir,
        'interfaces-config': { interfaces: ['kgw'] },
        'lease-database': { type: 'memfile', persist: true, name: this.leases6, 'lfc-interval': t.lfcInterval },
        'expired-leases-processing': expired,
        'preferred-lifetime': t.validLifetime - 1, 'valid-lifetime': t.validLifetime, 'renew-timer': t.renewTimer, 'rebind-timer': t.rebindTimer,
        subnet6: [{ id: 1, subnet: 'fd00:50::/64', interface: 'kgw', pools: [{ pool: 'fd00:50::100 - fd00:50::1ff' }] }],
        loggers: [{ name: 'kea-dhcp6', output_options: [{ output: 'stdout' }], severity: 'INFO' }],
      },
    }));
    if (ddns) {
      const servers = [{ 'ip-address': '127.0.0.1', port: ddns.dnsPort }];
      writeFileSync(join(this.dir, 'd2.json'), JSON.stringify({
        DhcpDdns: {
          'ip-address': '127.0.0.1', port: ddns.d2Port, 'dns-server-timeout': 500, 'ncr-protocol': 'UDP', 'ncr-format': 'JSON',
          'tsig-keys': [{ name: ddns.key.name, algorithm: 'HMAC-SHA256', secret: ddns.key.secret }],
          'forward-ddns': { 'ddns-domains': [{ name: 'home.arpa.', 'key-name': ddns.key.name, 'dns-servers': servers }] },
          'reverse-ddns': { 'ddns-domains': [{ name: '50.168.192.in-addr.arpa.', 'key-name': ddns.key.name, 'dns-servers': servers }] },
          loggers: [{ name: 'kea-dhcp-ddns', output_options: [{ output: 'stdout' }], severity: 'DEBUG', debuglevel: 40 }],
        },
      }));
      this.spawnIn(this.gw, ['kea-dhcp-ddns', '-c', join(this.dir, 'd2.json')], 'd2.log');
    }
    this.spawnIn(this.gw, ['kea-dhcp4', '-c', join(this.dir, 'kea4.json')], 'kea4.log');
    this.spawnIn(this.gw, ['kea-dhcp6', '-c', join(this.dir, 'kea6.json')], 'kea6.log');
  }

  log(name: string): string {
    return (this.logs.get(name) ?? []).join('');
  }

  private setMac(mac: string): void {
    this.host.ip('link', 'set', 'khost', 'address', mac);
  }

  /** One DHCPv4 lease for a MAC and hostname (optionally asking for a lifetime); udhcpc exits once bound, no release. */
  leaseOnce(mac: string, hostname: string, leaseSeconds?: number): string {
    this.setMac(mac);
    execFileSync('ip', ['netns', 'exec', this.host.name, 'busybox', 'udhcpc', '-f', '-q', '-n', '-t', '5', '-T', '1',
      '-i', 'khost', '-x', `hostname:${hostname}`, ...(leaseSeconds ? ['-x', `lease:${leaseSeconds}`] : []),
      '-s', join(FIXTURES, 'udhcpc.script')], { stdio: 'ignore' });
    const m = /inet (192\.168\.50\.\d+)/.exec(this.host.ip('-4', 'addr', 'show', 'dev', 'khost'));
    if (!m) throw new Error('udhcpc got no lease');
    return m[1];
  }

  /** The client of this MAC binds once more, then releases its lease (udhcpc -R, stopped by SIGTERM). */
  async releaseOnce(mac: string, hostname: string): Promise<void> {
    this.host.ip('-4', 'addr', 'flush', 'dev', 'khost');
    const { child } = this.client(mac, hostname);
    const deadline = Date.now() + 10_000;
    while (!/inet 192\.168\.50\./.test(this.host.ip('-4', 'addr', 'show', 'dev', 'khost'))) {
      if (Date.now() > deadline) throw new Error('udhcpc did not bind');
      await new Promise((r) => setTimeout(r, 50));
    }
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  /** A DHCPv4 client that stays, renews, and releases on stop (udhcpc -R). */
  client(mac: string, hostname: string): { pidFile: string; child: ChildProcess } {
    this.setMac(mac);
    const pidFile = join(this.dir, `udhcpc-${mac.replace(/:/g, '')}.pid`);
    const child = this.spawnIn(this.host, ['busybox', 'udhcpc', '-f', '-R', '-t', '5', '-T', '1', '-i', 'khost', '-x', `hostname:${hostname}`,
      '-p', pidFile, '-s', join(FIXTURES, 'udhcpc.script')], `udhcpc-${hostname}.log`);
    return { pidFile, child };
  }

  /** DHCPv6 IA_NA with an FQDN option; dhclient daemonizes once bound. */
  lease6(hostname: string): void {
    // dhclient -6 needs a link-local address; the kernel adds it shortly after the link is up.
    const deadline = Date.now() + 5000;
    while (!/scope link/.test(this.host.ip('-6', 'addr', 'show', 'dev', 'khost')) && Date.now() < deadline) {
      execFileSync('sleep', ['0.1']);
    }
    writeFileSync(join(this.dir, 'dhclient6.conf'), `send fqdn.fqdn "${hostname}";\nsend fqdn.server-update on;\n`);
    execFileSync('ip', ['netns', 'exec', this.host.name, 'dhclient', '-6', '-1', '-cf', join(this.dir, 'dhclient6.conf'), '-lf', join(this.dir, 'dhclient6.leases'),
      '-pf', join(this.dir, 'dhclient6.pid'), '-sf', join(FIXTURES, 'dhclient-noop.sh'), 'khost'], { timeout: 30_000, stdio: 'ignore' });
  }

  release6(): void {
    execFileSync('ip', ['netns', 'exec', this.host.name, 'dhclient', '-6', '-r', '-cf', join(this.dir, 'dhclient6.conf'), '-lf', join(this.dir, 'dhclient6.leases'),
      '-pf', join(this.dir, 'dhclient6.pid'), '-sf', join(FIXTURES, 'dhclient-noop.sh'), 'khost'], { timeout: 30_000, stdio: 'ignore' });
  }

  lfcRuns(): number {
    return ((this.logs.get('kea4.log') ?? []).join('').match(/LFC_EXECUTE/g) ?? []).length;
  }

  stop(): void {
    const pid6 = join(this.dir, 'dhclient6.pid');
    if (existsSync(pid6)) {
      try { process.kill(Number(readFileSync(pid6, 'utf8').trim()), 'SIGKILL'); } catch { /* gone */ }
    }
    for (const p of this.procs) if (p.exitCode === null) p.kill('SIGTERM');
    this.gw.remove();
    this.host.remove();
  }
}
