/**
 * A real Knot DNS as a DDNS peer: a primary that takes our UPDATEs (TSIG, an update ACL) or a
 * secondary that follows our zone (AXFR/IXFR after NOTIFY). Optionally inside a network
 * namespace the test made. Stopped by PID; its folder is the test's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './stop-child.js';

export interface KnotServerOptions {
  /** "address@port" */
  listen: string;
  netns?: string;
  keys?: Array<{ id: string; algorithm: string; secret: string }>;
  /** the remote/acl/zone sections, as knot.conf lines */
  sections: string[];
  /** zone files to write: name → records after the SOA/NS it gets */
  zoneFiles?: Record<string, string[]>;
}

export class KnotServer {
  private constructor(readonly child: ChildProcess, readonly dir: string, readonly log: string[]) {}

  static start(o: KnotServerOptions): KnotServer {
    const dir = mkdtempSync(join(tmpdir(), 'edgedns-knotd-'));
    const keys = o.keys?.length ? ['key:', ...o.keys.flatMap((k) => [`  - id: ${k.id}`, `    algorithm: ${k.algorithm}`, `    secret: ${k.secret}`])] : [];
    writeFileSync(join(dir, 'knot.conf'), [
      'server:', `    rundir: "${dir}"`, `    listen: ${o.listen}`,
      'database:', `    storage: "${dir}"`,
      'log:', '  - target: stderr', '    any: info',
      ...keys,
      'template:', '  - id: default', `    storage: "${dir}"`, '    zonefile-sync: -1', '    journal-content: all',
      ...o.sections, '',
    ].join('\n'));
    for (const [name, records] of Object.entries(o.zoneFiles ?? {})) {
      writeFileSync(join(dir, `${name}.zone`), [
        `$ORIGIN ${name}.`, '$TTL 300', `@ SOA ns.${name}. admin.${name}. 1 3600 600 86400 300`, '@ NS ns.example.', ...records, '',
      ].join('\n'));
    }
    const cmd = ['knotd', '-c', join(dir, 'knot.conf')];
    const log: string[] = [];
    const child = o.netns ? spawn('ip', ['netns', 'exec', o.netns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => log.push(d));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => log.push(d));
    return new KnotServer(child, dir, log);
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}
