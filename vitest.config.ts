import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Most of a CLI test's time is spent waiting (emulated latency, Retry-After, search lag), not
    // computing: on 2 cores, 4 workers overlap those waits (measured: the suite's CPU time stays
    // about 2 minutes, its wall time falls by about half against 2 workers). Forks, not threads:
    // the CLI runs in-process and handles signals and process.exitCode, which threads do not share.
    pool: 'forks',
    maxWorkers: 4,
  },
});
