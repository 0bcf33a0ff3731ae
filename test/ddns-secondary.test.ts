/**
 * A real Knot DNS as a secondary of edgedns's LAN zone: it takes the zone by AXFR with TSIG,
 * and after an update here (nsupdate) edgedns's NOTIFY makes it fetch the change (IXFR), so the
 * new name answers there too.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminGet } from './helpers/admin-socket.js';
import { dig } from './helpers/dig.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { KnotServer } from './helpers/knot-server.js';
import { freePort } from './helpers/ports.js';
import { until } from './helpers/until.js';
import { missing } from './helpers/system.js';

const skip = missing('knotd', 'nsupdate', 'dig');
const SECRET = 'LSWXnfkKZjdPJI5QxlpnfQ==';


function nsupdate(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('nsupdate', ['-y', `hmac-sha256:xfr:${SECRET}`, '-t', '3'], { timeout: 10_000 }, (err, stdout, stderr) =>
      (err ? reject(new Error(`${stdout}${stderr}`)) : resolve(stdout)));
    child.stdin!.end([`server 127.0.0.1 ${port}`, ...lines, 'send', ''].join('\n'));
  });
}

describe.skipIf(skip !== null)(`a Knot secondary of the LAN zone${skip ? ` (${skip})` : ''}`, () => {
  let edge: EdgednsProcess;
  let knot: KnotServer;
  let port: number;
  let knotPort: number;
  let socket: string;
  const atSecondary = async (name: string, type = 'A') =>
    (await dig(['-p', String(knotPort), '@127.0.0.1', '+tries=1', '+time=1', name, type], 3000).catch(() => ({ answer: [] as Array<{ type: string; data: string }>, status: 'TIMEOUT' })))
      .answer.filter((r) => r.type === type).map((r) => r.data);

  beforeAll(async () => {
    if (process.env.EDGEDNS_REQUIRE_SYSTEM === '1' && skip) throw new Error(skip);
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-secondary-'));
    writeFileSync(join(dir, 'xfr.tsig'), `${SECRET}\n`);
    port = await freePort();
    knotPort = await freePort();
    socket = join(dir, 'admin.sock');
    edge = await EdgednsProcess.start([
      `listen: [{ address: 127.0.0.1, port: ${port} }]`,
      'zone: { domain: home.arpa, records: [{ name: nas, type: A, value: 192.168.50.5 }] }',
      'upstreams: [udp://127.0.0.1:9]',
      'ddns:',
      `  keys: [{ name: xfr, algorithm: hmac-sha256, secret-file: ${join(dir, 'xfr.tsig')} }]`,
      '  accept: [{ key: xfr, names: ["*.home.arpa"] }]',
      `  journal: ${join(dir, 'ddns.journal')}`,
      `  transfer: { allow: [{ key: xfr }], notify: ["127.0.0.1:${knotPort}"] }`,
      `admin: { socket: ${socket} }`,
    ].join('\n'), { configDir: dir });
    knot = KnotServer.start({
      listen: `127.0.0.1@${knotPort}`,
      keys: [{ id: 'xfr', algorithm: 'hmac-sha256', secret: SECRET }],
      sections: [
        'remote:', '  - id: edge', `    address: 127.0.0.1@${port}`, '    key: xfr',
        'acl:', '  - id: notify-from-edge', '    address: 127.0.0.1', '    action: notify',
        'zone:', '  - domain: home.arpa', '    master: edge', '    acl: notify-from-edge',
      ],
    });
  }, 20_000);

  afterAll(async () => {
    await knot?.stop();
    await edge?.stop();
  });

  it('takes the zone by AXFR, then each update after NOTIFY', async () => {
    expect(await until('the first transfer', () => atSecondary('nas.home.arpa'), (v) => v.length > 0)).toEqual(['192.168.50.5']);
    await nsupdate(port, ['zone home.arpa', 'update add camera.home.arpa 600 A 192.168.50.77']);
    // Knot's refresh timer is an hour (the SOA's): only the NOTIFY brings the change this soon.
    expect(await until('the change on the secondary', () => atSecondary('camera.home.arpa'), (v) => v.length > 0)).toEqual(['192.168.50.77']);
    await nsupdate(port, ['zone home.arpa', 'update delete camera.home.arpa A']);
    await until('the delete on the secondary', () => atSecondary('camera.home.arpa'), (v) => v.length === 0);
    const serialHere = (await dig(['-p', String(port), '@127.0.0.1', 'home.arpa', 'SOA'])).answer[0].data.split(' ')[2];
    expect(await until('the same serial', () => atSecondary('home.arpa', 'SOA'), (v) => v[0]?.split(' ')[2] === serialHere)).toHaveLength(1);
    const s = await adminGet(socket, '/ddns') as { transfers: { axfr: number; ixfr: number }; notify: { sent: number; answered: number } };
    expect(s.transfers.axfr).toBeGreaterThanOrEqual(1);
    expect(s.transfers.ixfr).toBeGreaterThanOrEqual(1);
    expect(s.notify.answered).toBeGreaterThanOrEqual(2);
    expect(knot.log.join('')).toMatch(/IXFR, incoming/);
  });
});
