import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The longest files (seconds of real waits each) start first, so no worker is left with one at the
 * end while the others sit idle. Vitest orders by the durations it cached, which a fresh clone (CI)
 * does not have: this list keeps the order there too. A file missing from it only runs later.
 */
const LONGEST_FIRST = [
  'reliability/insert-journal-hubspot', 'reliability/retries', 'reliability/faults-hubspot', 'reliability/salesforce-writes',
  'reliability/faults-salesforce', 'transport/garbage-answers', 'bench/bench', 'reliability/image', 'reliability/insert-journal-salesforce',
  'hubspot/change-detection', 'reliability/backpressure', 'reliability/store-failures',
];

class LongestFirst extends BaseSequencer {
  async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const at = LONGEST_FIRST.findIndex((name) => file.moduleId.endsWith(`test/${name}.test.ts`));
      return at < 0 ? LONGEST_FIRST.length : at;
    };
    const sorted = await super.sort(files);
    return sorted.map((file, i) => ({ file, i })).sort((a, b) => rank(a.file) - rank(b.file) || a.i - b.i).map(({ file }) => file);
  }
}

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
    sequence: { sequencer: LongestFirst },
  },
});
