/**
 * WireGuard for real, in network namespaces this test makes (recipe §2): edgedns serves in a
 * gateway namespace and brings up its tunnel (wireguard-go: this kernel has no WireGuard); a
 * client namespace loads the config `wg add-peer` printed into its own wireguard-go, completes a
 * handshake, pings the gateway's tunnel address and resolves names through edgedns over the
 * tunnel. The QR PNG decodes to the printed config byte for byte.
 *
 *   gw [wan0 10.98.0.1/24, tunnel 10.44.0.1/24 fd44::1/64] —— [eth0 10.98.0.2/24] client
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, EdgednsProcess } from './helpers/edgedns-process.js';
import { dig } from './helpers/dig.js';
import { execIn, Netns } from './helpers/netns.js';
import { adminGet, adminText } from './helpers/admin-socket.js';
import { missingOrNotRoot } from './helpers/system.js';
import { stopWireguardGo, WgClient, wgIfname } from './helpers/wg-client.js';

const skip = missingOrNotRoot('ip', 'dig', 'ping', 'wg', 'wg-quick', 'wireguard-go', 'zbarimg');


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

describe.skipIf(skip)('WireGuard in network namespaces', () => {
  let gw: Netns;
  let client: Netns;
  let edge: EdgednsProcess | null = null;
  let phone: WgClient | null = null;
  let dir: string;
  let config: string;
  let socket: string;
  let serverPid: number | undefined;
  const wgIf = wgIfname('wgs');
  const clientIf = wgIfname('wgc');
  const cli = (...args: string[]) => execIn([process.execPath, BIN, ...args], gw.name);
  const ask = (name: string, type = 'A') => dig(['@10.44.0.1', name, type, '+time=1', '+tries=2'], 5000, client.name);

  beforeAll(async () => {
    gw = new Netns();
    client = new Netns();
    gw.ip('link', 'add', 'wan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name);
    gw.ip('address', 'add', '10.98.0.1/24', 'dev', 'wan0');
    client.ip('address', 'add', '10.98.0.2/24', 'dev', 'eth0');
    gw.ip('link', 'set', 'wan0', 'up');
    client.ip('link', 'set', 'eth0', 'up');
    dir = mkdtempSync(join(tmpdir(), 'edgedns-wg-e2e-'));
    socket = join(dir, 'admin.sock');
    config = join(dir, 'edgedns.yaml');
  });

  afterAll(async () => {
    await edge?.stop();
    phone?.stop();
    stopWireguardGo(serverPid, wgIf);
    client?.remove();
    gw?.remove();
  });

  it('wg init makes a key `wg pubkey` agrees with, and add-peer prints a config whose QR decodes to it byte for byte', async () => {
    const yaml = `
listen: [{ address: 127.0.0.1, port: 5353 }]
upstreams: [udp://127.0.0.1:1]
zone:
  domain: home.arpa
  records: [{ name: gw, type: A, value: 10.44.0.1 }]
wireguard:
  interface: ${wgIf}
  address: [10.44.0.1/24, "fd44::1/64"]
  private-key-file: ${dir}/wg.key
  endpoint: 10.98.0.1
  state-file: ${dir}/state/wireguard.json
admin: { socket: ${socket} }
`;
    execFileSync('sh', ['-c', `cat > ${config}`], { input: yaml });
    const init = await cli('wg', 'init', '-c', config);
    expect(init.code).toBe(0);
    const pub = execFileSync('wg', ['pubkey'], { input: readFileSync(`${dir}/wg.key`) }).toString().trim();
    expect(init.stdout.trim()).toBe(pub);

    const add = await cli('wg', 'add-peer', 'phone', '-c', config, '--psk', '--png', `${dir}/phone.png`);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/^\[Interface\]\nPrivateKey = \S+\nAddress = 10\.44\.0\.2\/32, fd44::2\/128\nDNS = 10\.44\.0\.1\n/);
    expect(add.stdout).toContain(`PublicKey = ${pub}`);
    expect(add.stdout).toContain('Endpoint = 10.98.0.1:51820');
    expect(add.stderr).toContain('█'); // the QR, drawn in the terminal
    const decoded = execFileSync('zbarimg', ['--raw', '-q', '--nodbus', `${dir}/phone.png`]);
    expect(decoded.subarray(0, -1).equals(Buffer.from(add.stdout))).toBe(true); // zbarimg adds one "\n"
    (globalThis as Record<string, unknown>).phoneConf = add.stdout;
  });

  it('serve brings the tunnel up; the client handshakes, pings the gateway and resolves names over it', async () => {
    edge = await EdgednsProcess.start(readFileSync(config, 'utf8'), { netns: gw.name, configDir: dir });
    await edge.waitForLog('"wireguard applied"', 10_000);
    const status = await adminGet(socket, '/wireguard');
    expect(status).toMatchObject({ configured: true, interface: wgIf, implementation: 'wireguard-go', error: null });
    serverPid = status.pid;
    expect(status.peers).toMatchObject([{ name: 'phone', state: 'never', address: ['10.44.0.2/32', 'fd44::2/128'] }]);

    phone = await WgClient.load(client, clientIf, (globalThis as Record<string, unknown>).phoneConf as string, ['10.44.0.0/24', 'fd44::/64']);
    const ping = await eventually('ping over the tunnel', async () => (await execIn(['ping', '-c', '1', '-W', '1', '10.44.0.1'], client.name)).code === 0);
    expect(ping).toBe(true);
    expect((await execIn(['ping', '-6', '-c', '1', '-W', '1', 'fd44::1'], client.name)).code).toBe(0);

    const gwName = await ask('gw.home.arpa');
    expect(gwName.answer).toEqual([expect.objectContaining({ type: 'A', data: '10.44.0.1' })]);
    expect(gwName.flags).toContain('aa');
    expect((await ask('phone.wg.home.arpa')).answer).toEqual([expect.objectContaining({ data: '10.44.0.2' })]);
    expect((await ask('phone.wg.home.arpa', 'AAAA')).answer).toEqual([expect.objectContaining({ data: 'fd44::2' })]);
    expect((await dig(['@10.44.0.1', '-x', '10.44.0.2', '+time=1'], 5000, client.name)).answer).toEqual([expect.objectContaining({ type: 'PTR', data: 'phone.wg.home.arpa.' })]);

    const after = await eventually('status shows the handshake', async () => {
      const s = await adminGet(socket, '/wireguard');
      return s.peers[0]?.state === 'up' ? s : null;
    });
    expect(after.peers[0]).toMatchObject({ name: 'phone', endpoint: expect.stringMatching(/^10\.98\.0\.2:\d+$/), handshakeAgeS: expect.any(Number) });
    expect(after.peers[0].rx).toBeGreaterThan(0);
    expect(after.peers[0].tx).toBeGreaterThan(0);
    expect(JSON.stringify(after)).not.toContain(readFileSync(`${dir}/wg.key`, 'utf8').trim());
    const metrics = await adminText(socket, '/metrics');
    expect(metrics).toMatch(/^edgedns_wireguard_peers\{state="up"\} 1$/m);
    expect(metrics).toMatch(/^edgedns_wireguard_peer_receive_bytes_total\{peer="phone"\} [1-9]\d*$/m);
    const show = await cli('wg', 'show', '--admin', `unix:${socket}`);
    expect(show.stdout).toMatch(/phone\s+10\.44\.0\.2\/32, fd44::2\/128\s+\d+s ago/);
    expect(show.stdout).toMatch(/\bup\s*$/m);
  });

  it('a peer added or removed while serving is applied within seconds, names included', async () => {
    const add = await cli('wg', 'add-peer', 'laptop', '-c', config, '--split');
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('AllowedIPs = 10.44.0.0/24, fd44::/64\n');
    await eventually('laptop in wg show', async () => (await execIn(['wg', 'show', wgIf, 'allowed-ips'], gw.name)).stdout.includes('10.44.0.3/32'));
    await eventually('laptop resolves', async () => (await ask('laptop.wg.home.arpa')).answer[0]?.data === '10.44.0.3');
    expect((await cli('wg', 'remove-peer', 'laptop', '-c', config)).code).toBe(0);
    await eventually('laptop gone', async () => (await ask('laptop.wg.home.arpa')).status === 'NXDOMAIN');
    expect((await execIn(['wg', 'show', wgIf, 'allowed-ips'], gw.name)).stdout).not.toContain('10.44.0.3/32');
    // the phone was not disturbed
    expect((await execIn(['ping', '-c', '1', '-W', '1', '10.44.0.1'], client.name)).code).toBe(0);
  });

  it('stopping edgedns leaves the tunnel up; starting it again changes nothing', async () => {
    await edge!.stop();
    edge = null;
    expect(gw.ip('link', 'show', wgIf)).toContain('UP');
    expect((await execIn(['ping', '-c', '1', '-W', '1', '10.44.0.1'], client.name)).code).toBe(0);
    edge = await EdgednsProcess.start(readFileSync(config, 'utf8'), { netns: gw.name, configDir: dir });
    const applied = JSON.parse(await edge.waitForLog('"wireguard applied"', 10_000)) as { changes: string[]; implementation: string };
    expect(applied).toMatchObject({ changes: [], implementation: 'wireguard-go' });
    expect((await execIn(['ping', '-c', '1', '-W', '1', '10.44.0.1'], client.name)).code).toBe(0);
    expect((await ask('phone.wg.home.arpa')).answer[0]?.data).toBe('10.44.0.2');
  });

  it('wg apply --dry-run prints the plan without a key; a bad state file keeps the running tunnel', async () => {
    const dry = await cli('wg', 'apply', '-c', config, '--dry-run');
    expect(dry.code).toBe(0);
    // the plan apply would run against the tunnel as it is: the interface and its address are
    // there, so neither is added again; the peers are synced; no key is printed
    expect(dry.stdout).toContain(`wg syncconf ${wgIf} CONF`);
    expect(dry.stdout).toContain(`ip link set ${wgIf} mtu 1420 up`);
    expect(dry.stdout).not.toContain(`ip link add ${wgIf}`);
    expect(dry.stdout).not.toContain(`ip address replace 10.44.0.1/24 dev ${wgIf}`);
    expect(dry.stdout).not.toContain(readFileSync(`${dir}/wg.key`, 'utf8').trim());
    const from = edge!.logs.length;
    execFileSync('sh', ['-c', `printf '{"version":1,"peers":[{"name":"x"' > ${dir}/state/wireguard.json`]);
    const line = await edge!.waitForLog('wireguard apply failed', 5000, from);
    expect(line).toContain('not JSON');
    expect((await adminGet(socket, '/wireguard')).error).toContain('not JSON');
    expect((await execIn(['ping', '-c', '1', '-W', '1', '10.44.0.1'], client.name)).code).toBe(0);
    expect((await ask('phone.wg.home.arpa')).answer[0]?.data).toBe('10.44.0.2');
  });
});
