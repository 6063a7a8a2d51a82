import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // CLI tests spawn child processes and emulators; two cores, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
  },
});
