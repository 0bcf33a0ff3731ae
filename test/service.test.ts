/**
 * Running as the service does: a user that is not root, holding only CAP_NET_BIND_SERVICE
 * (as contrib/edgedns.service grants), binds ports 53, 853 and 443 — inside a network namespace
 * this test creates, so the host's port 53 is untouched. Without the capability it cannot.
 */
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts } from './helpers/certs.js';
import { dig } from './helpers/dig.js';
import { EdgednsProcess } from './helpers/edgedns-process.js';
import { Netns } from './helpers/netns.js';
import { missingOrNotRoot } from './helpers/system.js';

const skip = missingOrNotRoot('ip', 'dig', 'setpriv', 'openssl');
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

describe.skipIf(skip)('the systemd unit\'s privileges', () => {
  let ns: Netns;
  let dir: string;
  let yaml: string;

  beforeAll(() => {
    ns = new Netns();
    dir = mkdtempSync(join(tmpdir(), 'edgedns-svc-'));
    chmodSync(dir, 0o755);
    const certs = makeCerts(['localhost'], join(dir, 'certs'));
    chmodSync(certs.dir, 0o755);
    chmodSync(certs.key, 0o644); // readable by the unprivileged user in this test only
    yaml = `
listen:
  - { address: 127.0.0.1, protocols: [udp, tcp, dot, doh] }
tls: { cert: ${certs.cert}, key: ${certs.key} }
zone:
  records:
    - { name: gw, type: A, value: 10.0.0.1 }
upstreams: [udp://127.0.0.1:9]
`;
  });

  afterAll(() => ns?.remove());

  it('unit file grants exactly CAP_NET_BIND_SERVICE and reloads through edgedns reload', () => {
    const unit = readFileSync(new URL('../contrib/edgedns.service', import.meta.url), 'utf8');
    expect(unit).toMatch(/^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
    expect(unit).toMatch(/^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m);
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    expect(unit).toMatch(/^User=edgedns$/m);
    expect(unit).toMatch(/^ExecReload=.*edgedns\.js reload/m);
  });

  it('binds 53, 853 and 443 as nobody with the capability', async () => {
    const edge = await EdgednsProcess.start(yaml, {
      netns: ns.name, configDir: dir,
      wrap: [...NOBODY, '--inh-caps=+net_bind_service', '--ambient-caps=+net_bind_service'],
    });
    try {
      const started = JSON.parse(await edge.waitForLog('edgedns started'));
      expect(started.listeners).toEqual(expect.arrayContaining(['udp|127.0.0.1|53', 'tcp|127.0.0.1|53', 'dot|127.0.0.1|853', 'doh|127.0.0.1|443']));
      const r = await dig(['@127.0.0.1', 'gw.home.arpa'], 8000, ns.name);
      expect(r.answer[0].data).toBe('10.0.0.1');
      const uid = await new Promise<string>((resolve) => execFile('ps', ['-o', 'uid=', '-p', String(edge.pid)], (_e, out) => resolve(out.trim())));
      expect(uid).toBe('65534');
    } finally {
      await edge.stop();
    }
  });

  it('cannot bind them as nobody without it', async () => {
    await expect(EdgednsProcess.start(yaml, { netns: ns.name, configDir: dir, wrap: NOBODY })).rejects.toThrow(/EACCES|permission denied/i);
  });
});
