import { defineConfig } from 'vitest/config';

/** Tests whose bounds are latencies on real links: they run alone, after everything else, so the
 * load of other tests (this machine has two cores) is not mistaken for queueing delay. */
const ALONE = ['test/bufferbloat.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'main', include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'], exclude: ALONE, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'alone', include: ALONE, sequence: { groupOrder: 1 } } },
    ],
  },
});
