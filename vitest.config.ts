import { defineConfig } from 'vitest/config';

/** Tests whose bounds are latencies on real links: they run alone, after everything else, so the
 * load of other tests (this machine has two cores) is not mistaken for queueing delay. */
const ALONE = ['test/bufferbloat.test.ts'];
/** The gateway labs: their own load (2,000 qps, a 200-client lease storm, 400 new flows at once)
 * would be other tests' noise, and other tests' load theirs; they run last, one file at a time. */
const LAB = ['test/lab/lab.test.ts', 'test/gateway-flows.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'main', include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'], exclude: [...ALONE, ...LAB], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'alone', include: ALONE, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'lab', include: LAB, fileParallelism: false, sequence: { groupOrder: 2 } } },
    ],
  },
});
