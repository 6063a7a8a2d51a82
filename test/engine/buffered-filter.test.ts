// A chunk flushed because the input went idle runs outside any caller that could catch its
// failure (a store that cannot be reached): the failure must reach the run at the next add or
// drain, not escape as an unhandled rejection that kills the process without a summary.
import { describe, expect, it } from 'vitest';
import { BufferedFilter } from '../../src/engine/buffered-filter.ts';
import type { RowSink, SinkItem } from '../../src/engine/row-sink.ts';

class StoreDown extends BufferedFilter {
  protected async process(): Promise<void> {
    throw new Error('the state store is unreachable');
  }
}

const next: RowSink = { add: () => undefined, flushIfIdle: () => undefined, drain: async () => undefined, settleInFlight: async () => undefined };
const row = (seq: number): SinkItem => ({ seq, line: seq, data: {}, write: { key: `k${seq}`, values: {} } });

describe('a chunk flushed while the input is idle', () => {
  it('fails the next drain with its error', async () => {
    const filter = new StoreDown(next, 10);
    filter.add(row(1));
    filter.flushIfIdle(0);
    await expect(filter.drain()).rejects.toThrow('the state store is unreachable');
  });

  it('fails the next add with its error', async () => {
    const filter = new StoreDown(next, 10);
    filter.add(row(1));
    filter.flushIfIdle(0);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(filter.add(row(2))).rejects.toThrow('the state store is unreachable');
  });
});
