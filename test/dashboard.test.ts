/**
 * The dashboard in a real browser (headless Debian Chromium driven by playwright-core; no browser
 * download): edgedns serves a gateway namespace with real Kea leases for a real DHCP client, an
 * uplink to an ISP namespace whose link the test pulls, and a WireGuard tunnel (wireguard-go).
 * Its admin address is the LAN address (not loopback), so the page needs the token's login.
 * Screenshots of every view go to artifacts/dashboard/.
 *
 *   isp [ispl 10.212.0.1] —— [wan1 10.212.0.2] gw [kgw 192.168.50.1] —— [khost 192.168.50.x] host (udhcpc)
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, EdgednsProcess } from './helpers/edgedns-process.js';
import { adminGet } from './helpers/admin-socket.js';
import { dig } from './helpers/dig.js';
import { KeaLab } from './helpers/kea-lab.js';
import { execIn, Netns } from './helpers/netns.js';
import { missingOrNotRoot } from './helpers/system.js';
import { until } from './helpers/until.js';
import { stopWireguardGo, wgIfname } from './helpers/wg-client.js';

const skip = missingOrNotRoot('ip', 'chromium', 'kea-dhcp4', 'busybox', 'dig', 'wg', 'wireguard-go', 'zbarimg', 'curl');

const ARTIFACTS = fileURLToPath(new URL('../artifacts/dashboard/', import.meta.url));
const TOKEN = 'dashboard-test-token-7f3a';
const PORT = 9180;
const BASE = `http://192.168.50.1:${PORT}`;
const MAC = '02:00:00:00:0d:01';

/** Playwright's own `expect` belongs to its test runner; these are the waits this test needs. */
const wait = (what: string, f: () => Promise<boolean>, ms = 5000) => until(what, f, (v) => v, ms, 50);
const visible = (l: Locator, timeout = 5000) => l.first().waitFor({ state: 'visible', timeout });
const text = async (l: Locator) => (await l.first().textContent({ timeout: 5000 })) ?? '';
const hasText = (what: string, l: Locator, want: string, ms = 5000) => wait(what, async () => (await l.count()) > 0 && (await text(l)).includes(want), ms);
const count = (what: string, l: Locator, n: number, ms = 5000) => wait(what, async () => (await l.count()) === n, ms);

describe.skipIf(skip)('the dashboard in headless Chromium', () => {
  let lab: KeaLab;
  let isp: Netns;
  let edge: EdgednsProcess;
  let browser: Browser;
  let page: Page;
  let dir: string;
  let socket: string;
  let yaml: string;
  let wgPid: number | undefined;
  let laptop: string;
  const wgIf = wgIfname('wgd');
  const ask = (name: string) => dig(['@192.168.50.1', name, 'A', '+time=1', '+tries=2'], 5000, lab.host.name);
  const shot = async (name: string) => {
    await page.evaluate(() => window.scrollTo(0, 0)); // a sticky header in a full-page shot, from the top
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    lab = new KeaLab();
    isp = new Netns();
    lab.gw.ip('link', 'add', 'wan1', 'type', 'veth', 'peer', 'name', 'ispl', 'netns', isp.name);
    lab.gw.ip('addr', 'add', '10.212.0.2/24', 'dev', 'wan1');
    isp.ip('addr', 'add', '10.212.0.1/24', 'dev', 'ispl');
    lab.gw.ip('link', 'set', 'wan1', 'up');
    isp.ip('link', 'set', 'ispl', 'up');
    dir = mkdtempSync(join(tmpdir(), 'edgedns-dash-'));
    socket = join(dir, 'admin.sock');
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
    yaml = `
listen: [{ address: 192.168.50.1, port: 53 }]
upstreams: [udp://127.0.0.1:1]
zone:
  domain: home.arpa
  records: [{ name: gw, type: A, value: 192.168.50.1 }, { name: printer, type: A, value: 192.168.50.9 }]
leases: { kea4: ${lab.leases4} }
uplinks:
  - name: wan
    interface: wan1
    gateway: 10.212.0.1
    table: 121
    probes: [{ type: icmp, target: 10.212.0.1, interval: 300ms, timeout: 200ms }]
    down-after: 2
    up-after: 2
    hold-down: 1s
    smart-queueing:
      bandwidth-up: 20mbit
      ingress: false
      classes: [{ name: lan, sources: [192.168.50.0/24], rate: 5mbit, ceil: 20mbit }]
wireguard:
  interface: ${wgIf}
  address: [10.45.0.1/24]
  private-key-file: ${dir}/wg.key
  endpoint: 10.212.0.2
  state-file: ${dir}/wireguard.json
admin: { http: "192.168.50.1:${PORT}", socket: ${socket}, token-file: ${dir}/token }
`;
    writeFileSync(join(dir, 'edgedns.yaml'), yaml);
    expect((await execIn([process.execPath, BIN, 'wg', 'init', '-c', join(dir, 'edgedns.yaml')], lab.gw.name)).code).toBe(0);
    lab.startKea({ validLifetime: 600, minValidLifetime: 60, renewTimer: 300, rebindTimer: 500, lfcInterval: 3600 });
    edge = await EdgednsProcess.start(yaml, { netns: lab.gw.name, configDir: dir });
    await edge.waitForLog('"wireguard applied"', 10_000);
    wgPid = (await adminGet(socket, '/wireguard')).pid;
    await wait('kea-dhcp4 to start', async () => lab.log('kea4.log').includes('DHCP4_STARTED'), 10_000);
    laptop = lab.leaseOnce(MAC, 'laptop');
    await wait('the lease name', async () => (await ask('laptop.home.arpa')).answer.some((a) => a.data === laptop), 10_000);

    // Chromium runs inside the gateway namespace, where 192.168.50.1 is a LAN address, not loopback.
    const wrapper = join(dir, 'chromium-in-netns');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lab.gw.name} /usr/bin/chromium "$@"\n`);
    chmodSync(wrapper, 0o755);
    browser = await chromium.launch({
      executablePath: wrapper,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', (d) => void d.accept());
    // For the README's screenshots only: EDGEDNS_DASHBOARD_DEMO_S=300 runs LAN traffic first, so the charts have a past.
    const demoS = Number(process.env.EDGEDNS_DASHBOARD_DEMO_S ?? 0);
    const names = ['printer.home.arpa', 'gw.home.arpa', 'laptop.home.arpa', 'nas.home.arpa', '50.168.192.in-addr.arpa'];
    for (const end = Date.now() + demoS * 1000; Date.now() < end;) {
      const n = names[Math.floor(Math.random() * names.length)];
      await Promise.all([ask(n), dig(['@192.168.50.1', n, Math.random() < 0.3 ? 'AAAA' : 'A', '+tcp', '+time=1'], 5000, lab.host.name)]);
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200 * (1 + Math.sin(Date.now() / 30_000))));
    }
  }, 90_000 + Number(process.env.EDGEDNS_DASHBOARD_DEMO_S ?? 0) * 1000);

  afterAll(async () => {
    await browser?.close();
    await edge?.stop();
    stopWireguardGo(wgPid, wgIf);
    lab?.stop();
    isp?.remove();
  });

  it('on a LAN address the page is a login form until the token is given; a write without the cookie gets 403', async () => {
    const headers = (await page.goto(`${BASE}/`))!.headers();
    await visible(page.locator('input#token'));
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-content-type-options']).toBe('nosniff');
    // From the page's own origin, without a session: refused, and nothing was flushed.
    const status = await page.evaluate(() => fetch('/cache/flush', { method: 'POST', body: '{}' }).then((r) => r.status));
    expect(status).toBe(403);
    // A read too: over plain http a page's GET carries nothing that tells it from an API client's, so 401.
    expect((await page.evaluate(() => fetch('/stats').then((r) => r.status)))).toBe(401);
    await shot('login');

    await page.fill('#token', 'not-the-token');
    await page.click('button[type=submit]');
    await hasText('the login error', page.locator('.error'), 'wrong token');
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await visible(page.locator('#queries-total'));
    const cookie = (await page.context().cookies()).find((c) => c.name === 'edgedns_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // With the session, the page's writes work; another origin's do not (curl stands in for its form).
    expect(await page.evaluate(() => fetch('/cache/flush', { method: 'POST', body: '{}' }).then((r) => r.status))).toBe(200);
    const forged = await execIn(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-H', 'Origin: http://evil.example',
      '-H', `Cookie: edgedns_session=${cookie!.value}`, `${BASE}/cache/flush`], lab.gw.name);
    expect(forged.stdout).toBe('403');
  });

  it('the overview counts known queries live, and names the lease holder among the top clients', async () => {
    await page.goto(`${BASE}/#overview`);
    await visible(page.locator('#queries-total'));
    const before = Number((await page.locator('#queries-total').textContent())!.replace(/,/g, ''));
    for (let i = 0; i < 7; i++) await ask('printer.home.arpa');
    await wait('the count to follow', async () => Number((await text(page.locator('#queries-total'))).replace(/,/g, '')) >= before + 7);
    const clients = page.locator('#top-clients tbody tr', { hasText: 'laptop.home.arpa' });
    await count('the lease name among top clients', clients, 1);
    expect(await clients.locator('td').nth(1).textContent()).toBe(laptop);
    await visible(page.locator('.card', { hasText: 'Top names' }).locator('tr', { hasText: 'printer.home.arpa' }));
    await shot('overview');
  });

  it('the query log tails live, filters, and says why a name resolved so', async () => {
    await page.goto(`${BASE}/#queries`);
    await visible(page.locator('#f-name'));
    await ask('gw.home.arpa');
    await ask('printer.home.arpa');
    await page.fill('#f-name', 'printer');
    const row = page.locator('tbody tr', { hasText: 'printer.home.arpa' }).first();
    await visible(row);
    await count('the filter', page.locator('tbody tr', { hasText: 'gw.home.arpa' }), 0);
    await row.locator('button').click();
    await hasText('the route', page.locator('#why'), 'local zone home.arpa');
    await hasText('the client by its lease name', page.locator('#why'), 'laptop.home.arpa');
    await page.click('#pause');
    await ask('printer.home.arpa');
    const paused = await page.locator('tbody tr').count();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await page.locator('tbody tr').count()).toBe(paused);
    await shot('queries');
  });

  it('names: the zone with its origins, and the lease with its expiry counting down', async () => {
    await page.goto(`${BASE}/#names`);
    const lease = page.locator('tr', { hasText: 'laptop.home.arpa' }).filter({ has: page.locator('.countdown') });
    await visible(lease);
    const first = await lease.locator('.countdown').textContent();
    // it counts down in the page (a second a tick; given a few, on a machine this busy)
    await wait('the countdown to tick', async () => (await lease.locator('.countdown').textContent()) !== first, 6000);
    await shot('names');
    await page.fill('#name-search', 'printer');
    await visible(page.locator('tr', { hasText: '192.168.50.9' }));
    await count('the search to hide the lease', page.locator('tr', { hasText: 'laptop.home.arpa' }), 0);
    // A second client asks for a name the static records hold: the page says who won.
    lab.leaseOnce('02:00:00:00:0d:02', 'printer');
    await wait('the lease that lost to the static record', async () =>
      (await adminGet(socket, '/leases')).leases.some((l: { name: string; state: string }) => l.name === 'printer.home.arpa' && l.state === 'static-wins'), 10_000);
    await page.goto(`${BASE}/#names`);
    const conflicts = page.locator('.card', { hasText: 'Conflicts: who won' });
    await hasText('the conflict and its winner', conflicts, 'a static record has the name');
    await hasText('what is served', conflicts, '192.168.50.9 (static)');
    await shot('names-conflict');
  });

  it('an uplink going down shows on the page within 2 s, by the live stream', async () => {
    await page.goto(`${BASE}/#uplinks`);
    const card = page.locator('section.uplink[data-uplink="wan"]');
    await hasText('the uplink up', card.locator('.badge'), 'up', 10_000);
    await shot('uplinks');
    isp.ip('link', 'set', 'ispl', 'down');
    await wait('the page to show it down', async () => /\bdown\b/.test((await card.getAttribute('class')) ?? ''), 10_000);
    const seenAt = Date.now();
    const event = (await adminGet(socket, '/uplinks')).events.find((e: { to: string }) => e.to === 'down');
    expect(event).toBeDefined();
    expect(seenAt - event.at).toBeLessThan(2000);
    await hasText('the transition with its reason', page.locator('#uplink-events'), event.reason);
    await shot('uplinks-down');
    isp.ip('link', 'set', 'ispl', 'up');
  });

  it('adds a WireGuard peer: the QR on screen decodes to the config shown, once; then removes it', async () => {
    await page.goto(`${BASE}/#wireguard`);
    await page.fill('#peer-name', 'tablet');
    await page.check('#scope-split');
    await page.click('#add-peer button[type=submit]');
    const qr = page.locator('#peer-qr');
    await visible(qr);
    const shown = await page.locator('#peer-config').textContent();
    expect(shown).toMatch(/^\[Interface\]\nPrivateKey = \S+\nAddress = 10\.45\.0\.2\/32\n/);
    expect(shown).toContain('Endpoint = 10.212.0.2:51820');
    expect(shown).toContain('AllowedIPs = 10.45.0.0/24'); // split: the tunnel only
    await qr.screenshot({ path: join(dir, 'qr.png') });
    const decoded = execFileSync('zbarimg', ['--raw', '-q', '--nodbus', join(dir, 'qr.png')]).toString();
    expect(decoded).toBe(`${shown}\n`); // zbarimg adds one "\n"
    await shot('wireguard');
    // The state file changed; the running tunnel takes the peer within a second.
    await wait('the peer in the tunnel', async () => (await adminGet(socket, '/wireguard')).peers.some((p: { name: string }) => p.name === 'tablet'));
    const state = JSON.parse(readFileSync(join(dir, 'wireguard.json'), 'utf8')) as { peers: Array<{ name: string }> };
    expect(state.peers.map((p) => p.name)).toEqual(['tablet']);
    // Shown once: a reload of the page does not bring the config back.
    await page.reload();
    await visible(page.locator('tr', { hasText: 'tablet' }));
    expect(await page.locator('#peer-config').count()).toBe(0);
    await page.click('button[aria-label="remove peer tablet"]');
    await wait('the peer gone', async () => !(await adminGet(socket, '/wireguard')).peers.some((p: { name: string }) => p.name === 'tablet'));
    await count('the peer gone from the page', page.locator('tr', { hasText: 'tablet' }), 0);
  });

  it('a failed reload shows its FILE:LINE:COL errors; the running config stays', async () => {
    await page.goto(`${BASE}/#overview`);
    writeFileSync(join(dir, 'edgedns.yaml'), yaml.replace('upstreams: [udp://127.0.0.1:1]', 'upstreams: [udp://127.0.0.1:1]\nupstream-timeout: soon'));
    await page.click('#reload-config');
    await hasText('the error by file and line', page.locator('.issues'), `${join(dir, 'edgedns.yaml')}:4:`);
    await hasText('the key', page.locator('.issues'), 'upstream-timeout');
    await shot('reload-failed');
    writeFileSync(join(dir, 'edgedns.yaml'), yaml);
    await page.click('#reload-config');
    await hasText('the good file taken', page.locator('.result'), 'config reloaded');
    expect((await ask('printer.home.arpa')).answer[0]?.data).toBe('192.168.50.9');
  });

  it('the queueing view, a phone-sized screen (one column) and the keyboard', async () => {
    await page.goto(`${BASE}/#queueing`);
    await hasText('the view', page.locator('h1'), 'Queueing');
    const row = page.locator('tr', { hasText: 'wan1' });
    await hasText('the shaped rate', row, '20 Mbit/s');
    expect(await row.locator('td').nth(2).textContent()).toMatch(/^(cake|htb\+[a-z_]+)$/); // with classes: htb and a leaf qdisc per class
    await visible(page.locator('figure', { hasText: 'wan up: shaped rate and measured throughput' }));
    await shot('queueing');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${BASE}/#overview`);
    await visible(page.locator('#top-clients'));
    const boxes = await page.locator('.grid2 > .card').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().left));
    expect(new Set(boxes).size).toBe(1);
    await shot('overview-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
    // Tab to the nav and pick a view by keyboard alone.
    await page.goto(`${BASE}/#overview`);
    await page.locator('a.brand').focus();
    for (let i = 0; i < 2; i++) await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Query log');
    await page.keyboard.press('Enter');
    await hasText('the view picked by keyboard', page.locator('h1'), 'Query log');
  });
});
