// Issue 12, case 4, the in-flight path, deterministically: the engine in-process with a writer whose
// first write answers only when the test says so, and an input that yields its next lines only when
// the engine asks for them (so after it handled the previous ones). A later row of a key whose
// write is in flight waits for that write (a key is never in two writes at once), a still later
// one replaces the waiting one, and once the write settles the last row is diffed against what it
// left in the store and sent with only its changed fields.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runSync, type StateMessage } from '../../src/engine/sync.ts';
import { classifyLine, type InputMessage } from '../../src/protocol/input.ts';
import { resolveStreamPlans } from '../../src/config/stream-plan.ts';
import { Logger } from '../../src/protocol/log.ts';
import { StateStore } from '../../src/store/state-store.ts';
import type { ReleasedState } from '../../src/engine/checkpoints.ts';
import type { Config } from '../../src/config/spec.ts';
import type { ObjectWriter, PendingWrite, RowOutcome } from '../../src/crm/destination.ts';

const config = {
  crm: { type: 'hubspot', access_token: 'x' },
  objects: [{ stream: 'items', object: 'items', mode: 'upsert', match: { source: 'id', destination: 'id' } }],
} as Config;

/** A writer whose first write answers only on release(); it records every key that was ever in two writes at once. */
function gatedWriter(batchRows: number) {
  const calls: PendingWrite[][] = [];
  const inFlight = new Set<string>();
  const overlaps: string[] = [];
  let release = () => {};
  const firstAnswer = new Promise<void>((resolve) => (release = resolve));
  const writer: ObjectWriter = {
    maxBatchRows: batchRows,
    maxConcurrentWrites: 4,
    isWritableField: () => true,
    prepare: (row) => ({ ok: true, values: row.values }),
    write: async (rows): Promise<RowOutcome[]> => {
      calls.push(rows);
      for (const row of rows) {
        if (inFlight.has(row.key)) overlaps.push(row.key);
        inFlight.add(row.key);
      }
      if (calls.length === 1) await firstAnswer;
      for (const row of rows) inFlight.delete(row.key);
      return rows.map((row) => ({ status: 'created', id: row.key }));
    },
  };
  return { writer, calls, overlaps, release: () => release() };
}

const record = (id: string, n: number) => JSON.stringify({ type: 'RECORD', record: { stream: 'items', data: { id, n }, emitted_at: 0 } });
const state = (at: number) => JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: 'items' }, stream_state: { at } } } });

describe('a later row of a key whose write is in flight', () => {
  it('waits for that write, is replaced by a still later row, then goes out with only its changed fields', async () => {
    const gated = gatedWriter(500);
    const observed = { writesBeforeLaterRows: 0, writesAfterLaterRows: 0 };
    let line = 0;
    const messages = (lines: string[]): InputMessage[] => lines.map((text) => classifyLine(text, ++line, 'auto'));
    async function* input(): AsyncGenerator<InputMessage[]> {
      // 500 rows fill a store lookup chunk and a write batch: the batch goes out and hangs.
      yield messages([...Array.from({ length: 500 }, (_, i) => record(`k${i}`, i)), state(1)]);
      observed.writesBeforeLaterRows = gated.calls.length;
      yield messages([record('k7', 70), record('k7', 71), record('k8', 8), state(2)]);
      observed.writesAfterLaterRows = gated.calls.length;
      gated.release();
    }
    const plans = resolveStreamPlans(config);
    const store = new StateStore(':memory:');
    const released: ReleasedState<StateMessage>[] = [];
    const opened = new Map([[plans.plans[0], {
      writer: gated.writer,
      objectId: 'memory:items',
      openRemovalWriter: async (): Promise<ObjectWriter> => { throw new Error('not used'); },
    }]]);
    const silent = new Logger(new Writable({ write: (_c, _e, done) => done() }));
    const result = await runSync(input(), { plans, opened, store, log: silent, releaseState: async (s) => void released.push(s) });
    store.close();

    expect(result.fatal).toBeUndefined();
    expect(observed).toEqual({ writesBeforeLaterRows: 1, writesAfterLaterRows: 1 });
    expect(gated.overlaps).toEqual([]);
    // The first batch, then k7's last row alone with its changed field (and the key); k8's repeat is unchanged.
    expect(gated.calls.map((rows) => rows.length)).toEqual([500, 1]);
    expect(gated.calls[1]).toEqual([{ key: 'k7', values: { id: 'k7', n: 71 } }]);
    const total = result.counts.total();
    expect(total).toMatchObject({ received: 503, created: 501, unchanged: 1, skipped: 1, rejected: 0 });
    expect(released.map((s) => s.body.body)).toEqual([
      { type: 'STREAM', stream: { stream_descriptor: { name: 'items' }, stream_state: { at: 1 } } },
      { type: 'STREAM', stream: { stream_descriptor: { name: 'items' }, stream_state: { at: 2 } } },
    ]);
  });
});
