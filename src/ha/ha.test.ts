/**
 * The HA role: the state file's line, the server following it within milliseconds (inotify),
 * `edgedns ha set` as keepalived's notify runs it, and what a backup's route plan leaves out.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEdgeConfig } from '../app/sections.js';
import { sectionOf } from '../config/section.js';
import { planRoutes } from '../uplinks/route-plan.js';
import { UPLINKS } from '../uplinks/uplinks-section.js';
import { HaRole } from './ha-role.js';
import { parseHaState, writeHaState } from './ha-state.js';

const dir = mkdtempSync(join(tmpdir(), 'edgedns-ha-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });

describe('ha', () => {
  it('reads ROLE TIME, and anything else as unknown', () => {
    expect(parseHaState('master 2026-12-01T10:00:00.000Z\n')).toEqual({ role: 'master', since: '2026-12-01T10:00:00.000Z' });
    expect(parseHaState('BACKUP')).toEqual({ role: 'backup', since: null });
    expect(parseHaState('primary 2026')).toEqual({ role: 'unknown', since: null });
    expect(parseHaState(null)).toEqual({ role: 'unknown', since: null });
  });

  it('follows the state file: unknown publishes nothing, master does, each change once', async () => {
    const file = join(dir, 'sub', 'ha.state'); // the folder does not exist yet: the poll finds it
    const role = new HaRole({ stateFile: file, peerIntervalMs: 1000 }, { now: () => Date.now() }, log);
    const seen: string[] = [];
    role.onChange((r) => seen.push(r));
    role.start();
    expect([role.role, role.publishing]).toEqual(['unknown', false]);
    writeHaState(file, 'master', new Date());
    await until(() => role.role === 'master', 3000);
    expect(role.publishing).toBe(true);
    role.stop();
    const again = new HaRole({ stateFile: file, peerIntervalMs: 1000 }, { now: () => Date.now() }, log);
    again.onChange((r) => seen.push(`again:${r}`));
    again.start(); // a restart takes the role up from the file
    expect(again.role).toBe('master');
    writeHaState(file, 'backup', new Date());
    await until(() => again.role === 'backup', 3000);
    writeHaState(file, 'backup', new Date()); // the same role again changes nothing
    await new Promise((r) => setTimeout(r, 50));
    expect(again.publishing).toBe(false);
    expect(seen).toEqual(['master', 'again:master', 'again:backup']);
    expect(again.view()).toMatchObject({ role: 'backup', changes: 2, stateFile: file });
    again.stop();
  });

  it('`edgedns ha set` writes the role keepalived names, from -c or --state-file; a bad role is a usage error', () => {
    const file = join(dir, 'cli.state');
    const cfg = join(dir, 'edgedns.yaml');
    execFileSync('sh', ['-c', `printf 'upstreams: [udp://127.0.0.1:53]\\nha: { state-file: ${file} }\\n' > ${cfg}`]);
    const bin = new URL('../../bin/edgedns.js', import.meta.url).pathname;
    execFileSync(process.execPath, [bin, 'ha', 'set', 'MASTER', '-c', cfg]);
    expect(parseHaState(readFileSync(file, 'utf8')).role).toBe('master');
    execFileSync(process.execPath, [bin, 'ha', 'set', 'stop', '--state-file', file]);
    expect(parseHaState(readFileSync(file, 'utf8')).role).toBe('backup');
    let code = 0;
    try { execFileSync(process.execPath, [bin, 'ha', 'set', 'primary', '--state-file', file], { stdio: 'pipe' }); } catch (e) { code = (e as { status: number }).status; }
    expect(code).toBe(2);
  });

  it('a backup\'s route plan keeps the uplink tables and source rules, not the selection or the policies', () => {
    const c = parseEdgeConfig(`
upstreams: [udp://127.0.0.1:53]
uplinks:
  - { name: wan-a, interface: wan1, gateway: 10.201.0.1 }
multi-wan:
  apply-routes: true
  policies: [{ name: kids, match: { source: [10.0.50.0/24] }, uplinks: [wan-a] }]
`, 'p.yaml');
    const { uplinks, multiWan } = sectionOf(c, UPLINKS);
    const input = { uplinks, multiWan, sources: new Map([['wan-a', ['10.201.0.2']]]), active: ['wan-a'], policyRules: [{ family: 4 as const, pref: 10010, from: '10.0.50.0/24', table: 101 }] };
    const master = planRoutes(input);
    const backup = planRoutes({ ...input, forwarding: false });
    expect(master.rules.map((r) => r.pref)).toEqual([10000, 10010, 10100, 10900]);
    expect(backup.rules.map((r) => r.pref)).toEqual([10000, 10100]);
    expect(backup.routes.filter((r) => r.table === 100)).toEqual([]);
    expect(backup.routes.filter((r) => r.table === 101)).toHaveLength(2);
  });
});

async function until(ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
