// The queueing suite of bench/run.mjs: the bufferbloat lab of test/bufferbloat.test.ts (network
// namespaces, a tbf "modem" with 400 ms of buffer each way, CUBIC, a ping and a DNS query every
// 50 ms) run at 5, 10, 20, 50 and 100 Mbit/s, unshaped and with edgedns's fallback tree, up and
// down, plus the traffic-class guarantee. The lab is the test's own, so the two never drift apart.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function queueingSuite(root, runDir, rates = [5, 10, 20, 50, 100]) {
  const table = join(runDir, 'queueing.jsonl');
  rmSync(table, { force: true });
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'vitest'), ['run', 'test/bufferbloat.test.ts'], {
      cwd: root, stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000,
      env: { ...process.env, BLOAT_RATES: rates.join(','), BLOAT_TABLE: table },
    });
  } catch (e) {
    console.error(`queueing: the lab reported failures (${e.message.split('\n')[0]}); the rows it measured are kept`);
  }
  let rows = [];
  try {
    rows = readFileSync(table, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch { /* nothing measured */ }
  return { rates, rows };
}
