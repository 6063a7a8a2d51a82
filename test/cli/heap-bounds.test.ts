// The CLI bounds its heap in-process (src/heap-bounds.ts) unless its flags already size the young
// generation: what decides whether it does, and how far the full-collection bound follows a
// heap that holds more than it.
import { describe, expect, it } from 'vitest';
import { HEAP_BOUND_BYTES, nextHeapBound, youngGenerationSized } from '../../src/heap-bounds.ts';

describe('heap bounds', () => {
  it('leaves the young generation to flags that size it, on the command line or in NODE_OPTIONS', () => {
    expect(youngGenerationSized([], undefined)).toBe(false);
    expect(youngGenerationSized(['--enable-source-maps'], '--max-old-space-size=512')).toBe(false);
    expect(youngGenerationSized(['--max-semi-space-size=8'], undefined)).toBe(true);
    expect(youngGenerationSized([], '--no-warnings --max-semi-space-size=16')).toBe(true);
    expect(youngGenerationSized(['--max-young-generation-size=32'], '')).toBe(true);
  });

  it('collects past the first bound, or past twice what a full collection left alive', () => {
    const MB = 1024 * 1024;
    expect(nextHeapBound(10 * MB)).toBe(HEAP_BOUND_BYTES);
    expect(nextHeapBound(80 * MB)).toBe(160 * MB);
  });
});
