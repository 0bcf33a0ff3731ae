/**
 * A real Knot DNS on loopback: authoritative for the zones given, signing them itself (ECDSA,
 * NSEC), with mod-cookies on (server cookies, BADCOOKIE to UDP queries without a valid one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from './dig.js';
import { freePort } from './ports.js';
import { stopChild } from './stop-child.js';

export interface KnotZone {
  name: string;
  /** zone file lines after $ORIGIN/$TTL; the SOA and NS are written for you */
  records: string[];
}

export class Knot {
  private constructor(readonly child: ChildProcess, readonly port: number, readonly dir: string, readonly log: string[]) {}

  static async start(zones: KnotZone[]): Promise<Knot> {
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-knot-'));
    const port = await freePort();
    const conf = [
      'server:', `    rundir: "${dir}"`, `    listen: 127.0.0.1@${port}`,
      'database:', `    storage: "${dir}"`,
      'log:', '  - target: stderr', '    any: warning',
      'mod-cookies:', '  - id: default',
      'policy:', '  - id: fast', '    algorithm: ecdsap256sha256', '    nsec3: off',
      'template:', '  - id: default', `    storage: "${dir}"`, '    dnssec-signing: on', '    dnssec-policy: fast',
      '    global-module: mod-cookies/default',
      'zone:', ...zones.map((z) => `  - domain: ${z.name}`),
    ].join('\n');
    writeFileSync(join(dir, 'knot.conf'), conf);
    for (const z of zones) {
      writeFileSync(join(dir, `${z.name}.zone`), [
        `$ORIGIN ${z.name}.`, '$TTL 300', `@ SOA ns.${z.name}. admin.${z.name}. 1 3600 600 86400 300`, '@ NS ns', 'ns A 192.0.2.1',
        ...z.records, '',
      ].join('\n'));
    }
    const log: string[] = [];
    const child = spawn('knotd', ['-c', join(dir, 'knot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => log.push(d));
    const k = new Knot(child, port, dir, log);
    const deadline = Date.now() + 15_000;
    for (const z of zones) {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`knotd exited: ${log.join('')}`);
        if (Date.now() > deadline) throw new Error(`knotd did not serve ${z.name} signed: ${log.join('')}`);
        const r = await dig(['@127.0.0.1', '-p', String(port), '+tcp', '+dnssec', '+tries=1', '+time=1', z.name, 'SOA'], 3000).catch(() => null);
        if (r && r.status === 'NOERROR' && r.answer.some((a) => a.type === 'RRSIG')) break;
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    return k;
  }

  get url(): string {
    return `udp://127.0.0.1:${this.port}`;
  }

  /** The zone's key-signing DNSKEY, as a trust anchor line for a validator. */
  async trustAnchor(zone: string): Promise<string> {
    const r = await dig(['@127.0.0.1', '-p', String(this.port), '+tcp', zone, 'DNSKEY']);
    const ksk = r.answer.find((a) => a.type === 'DNSKEY' && a.data.startsWith('257 '));
    if (!ksk) throw new Error(`no KSK for ${zone}: ${r.raw}`);
    return `${zone}. DNSKEY ${ksk.data}`;
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}
