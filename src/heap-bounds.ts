// Keeps the process's memory near what it holds. A run allocates fast and keeps little (rows in
// flight, a lookup chunk): V8's defaults, made for long-lived servers on large machines, let the
// heap grow to several times that before they collect. Peak RSS at 1,000,000 rows stays under
// 200 MB with the bounds below, whether or not the process was started with NODE_OPTIONS (issue
// 16, BENCHMARKS.md). Used by main.ts only: tests run the CLI in-process and are left alone.
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The image's semi-space size, in MB (package.json config.nodeOptions, the Dockerfile's NODE_OPTIONS). */
export const SEMI_SPACE_MB = 8;
const MB = 1024 * 1024;
/** A heap larger than this is collected in full, once a check finds it so (a run's live heap is 20–30 MB). */
export const HEAP_BOUND_BYTES = 48 * MB;
const HEAP_CHECK_MS = 500;

export function boundHeap(): void {
  boundYoungGeneration();
  boundOldGeneration();
}

/** Whether the process's flags (command line or NODE_OPTIONS) already size the young generation. */
export function youngGenerationSized(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const sizing = /--(max-semi-space-size|semi-space-growth-factor|max-young-generation-size)\b/;
  return execArgv.some((flag) => sizing.test(flag)) || sizing.test(nodeOptions ?? '');
}

/**
 * On a machine with a few GB of memory V8 lets each semi-space grow to 32–64 MB, which a run's
 * allocation rate reaches within seconds: about 100 MB more peak RSS, for no throughput. Without
 * a size given at start, the same bound as the image's: the size limit is read only when V8
 * starts, but the growth factor each time the space would grow, so once the space reaches the
 * bound a factor of 1 keeps it there.
 */
function boundYoungGeneration(): void {
  if (youngGenerationSized(process.execArgv, process.env.NODE_OPTIONS)) return;
  const observer = new PerformanceObserver(() => {
    // The new space holds two semi-spaces; the observer runs after the collections that grew it.
    if (newSpaceBytes() < SEMI_SPACE_MB * MB) return;
    setFlagsFromString('--semi-space-growth-factor=1');
    observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
}

function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Rows in flight outlive a few young collections, so most of what a run allocates dies in the old
 * generation, which V8 lets grow to up to four times its live size before collecting it. Checked
 * twice a second: a heap past the bound is collected in full (5–20 ms for a run's heap). A heap
 * that holds more than the bound alive raises the bound, so it is not collected again and again.
 */
function boundOldGeneration(): void {
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  let bound = HEAP_BOUND_BYTES;
  setInterval(() => {
    if (getHeapStatistics().total_heap_size <= bound) return;
    collect();
    bound = nextHeapBound(getHeapStatistics().used_heap_size);
  }, HEAP_CHECK_MS).unref();
}

/** The bound after a full collection left `live` bytes: twice what is alive, and never below the first. */
export function nextHeapBound(live: number): number {
  return Math.max(HEAP_BOUND_BYTES, 2 * live);
}
