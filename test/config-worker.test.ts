/**
 * The server reads its config in a worker thread (app/config-loader.ts), so zod, yaml and the
 * rooms' schemas never stay in the serving process. Runs against the built code (`npm test`
 * builds first): under the TypeScript sources there is no worker file to start.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const DIST = resolve(import.meta.dirname, '..', 'dist');
/** A built module, by path (the built code has no declarations; the sources give its types). */
const built = (path: string): Promise<unknown> => import(join(DIST, path));

/** Every module a file reaches through static imports (dynamic `import()` is left out: it loads only when called). */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*'([^']+)'|(?:^|\n)\s*import\s*'([^']+)'/g)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else seen.add(`pkg:${spec.startsWith('node:') ? spec : spec.split('/')[0]}`);
    }
    for (const m of src.matchAll(/\brequire\('([^']+)'\)/g)) seen.add(`pkg:${m[1]}`); // cjs.ts
  };
  visit(entry);
  return seen;
}

const packages = (g: Set<string>) => [...g].filter((x) => x.startsWith('pkg:') && !x.startsWith('pkg:node:')).map((x) => x.slice(4)).sort();

describe('what the serving process loads', () => {
  it('serve reaches neither zod nor yaml nor the lazy packages; the config worker does reach zod and yaml', () => {
    const serve = staticGraph(join(DIST, 'cli', 'serve.js'));
    // pino logs, ipaddr.js checks addresses (ACLs), dns-packet builds the zone's records
    expect(packages(serve)).toEqual(['dns-packet', 'ipaddr.js', 'pino']);
    expect([...serve].some((f) => f.endsWith('-section.js'))).toBe(false);
    const worker = staticGraph(join(DIST, 'app', 'config-worker.js'));
    expect(packages(worker)).toEqual(expect.arrayContaining(['yaml', 'zod']));
  });
});

describe('loadIsolated', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgedns-cfgworker-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };

  it('gives the same Config as loading in-process, every section with it, Buffers as Buffers', async () => {
    const { loadIsolated, loadHere } = await built('app/config-loader.js') as typeof import('../src/app/config-loader.js');
    const secret = file('tsig.key', Buffer.alloc(32, 7).toString('base64'));
    const wgKey = file('wg.key', 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n');
    const cfg = file('full.yaml', `
listen: [{ address: 127.0.0.1, port: 5399 }]
zone: { domain: lan.test, records: [{ name: nas, type: A, value: 10.0.0.5 }] }
upstreams: [udp://127.0.0.1:5301]
leases: { kea4: ${dir}/leases4.csv, ttl: 30s }
uplinks:
  - { name: wan-a, interface: wan1, gateway: 10.201.0.1, probes: [{ type: dns, target: 10.250.0.53 }],
      smart-queueing: { bandwidth-up: 20mbit, bandwidth-down: 100mbit } }
  - { name: wan-b, interface: wan2, gateway: 10.202.0.1 }
multi-wan: { mode: failover }
ddns:
  keys: [{ name: lan-key, secret-file: ${secret} }]
  accept: [{ key: lan-key, names: ['*.lan.test'] }]
  journal: ${dir}/ddns.journal
ha: { state-file: ${dir}/ha.state }
wireguard: { address: [10.44.0.1/24], private-key-file: ${wgKey}, state-file: ${dir}/wg.json }
admin: { socket: ${dir}/admin.sock }
`);
    const here = await loadHere(cfg);
    const isolated = await loadIsolated(cfg);
    expect(isolated).toStrictEqual(here);
    expect([...isolated.sections.keys()].sort()).toEqual(['ddns', 'ha', 'leases', 'queueing', 'uplinks', 'wireguard']);
    expect(isolated.tsigKeys.size).toBe(1);
    for (const k of isolated.tsigKeys.values()) expect(Buffer.isBuffer(k.secret)).toBe(true);
  });

  it('a bad file is the same ConfigError, naming the key and line', async () => {
    const { loadIsolated } = await built('app/config-loader.js') as typeof import('../src/app/config-loader.js');
    const { ConfigError } = await built('config/errors.js') as typeof import('../src/config/errors.js');
    const cfg = file('bad.yaml', 'listen: [{ address: 127.0.0.1, port: 5399 }]\ncache: { size: lots }\n');
    const err = await loadIsolated(cfg).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as InstanceType<typeof ConfigError>).issues).toEqual([expect.objectContaining({ file: cfg, line: 2, path: 'cache.size' })]);
    const missing = await loadIsolated(join(dir, 'nope.yaml')).then(() => null, (e: unknown) => e);
    expect((missing as InstanceType<typeof ConfigError>).issues[0].message).toMatch(/cannot read/);
  });
});
