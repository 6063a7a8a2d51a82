// A chunk flushed because the input went idle runs outside the reading loop: its failure (a store
// that cannot be reached) is answered to the run's idle flusher, which stops the run with it,
// instead of escaping as an unhandled rejection that kills the process without a summary.
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
  it('answers its failure to the caller', async () => {
    const filter = new StoreDown(next, 10);
    filter.add(row(1));
    await expect(filter.flushIfIdle(0)).rejects.toThrow('the state store is unreachable');
  });

  it('answers nothing while no chunk is due', () => {
    const filter = new StoreDown(next, 10);
    filter.add(row(1));
    expect(filter.flushIfIdle(60_000)).toBeUndefined();
  });
});
