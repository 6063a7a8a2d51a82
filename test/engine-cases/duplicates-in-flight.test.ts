// Issue 12, case 4, the in-flight path, deterministically: the engine in-process with a writer whose
// first write answers only when the test says so, and an input that yields its next lines only when
// the engine asks for them (so after it handled the previous ones). A later row of a key whose
// write is in flight waits for that write (a key is never in two writes at once), a still later
// one replaces the waiting one, and once the write settles the last row is diffed against what it
// left in the store and sent with only its changed fields. When that write fails or its outcome is
// lost, the waiting row is not sent and no state after it goes out.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runSync } from '../../src/engine/sync.ts';
import type { InputState } from '../../src/protocol/input.ts';
import type { RejectedRecord } from '../../src/protocol/rejected-file.ts';
import { classifyLine, type InputMessage } from '../../src/protocol/input.ts';
import { resolveStreamPlans } from '../../src/config/stream-plan.ts';
import { Logger } from '../../src/protocol/log.ts';
import { StateStore } from '../../src/store/state-store.ts';
import { transientError } from '../../src/errors.ts';
import type { ReleasedState } from '../../src/engine/checkpoints.ts';
import type { Config } from '../../src/config/spec.ts';
import type { ObjectWriter, PendingWrite, RowOutcome } from '../../src/crm/destination.ts';
import { stubWriter } from './support.ts';

const config = {
  crm: { type: 'hubspot', access_token: 'x' },
  objects: [{ stream: 'items', object: 'items', mode: 'upsert', match: { source: 'id', destination: 'id' } }],
} as Config;

type FirstAnswer = (rows: PendingWrite[]) => RowOutcome[];
const created: FirstAnswer = (rows) => rows.map((row) => ({ status: 'created', id: row.key }));

/**
 * A writer of 500-row batches whose first write answers (with `first`) only on release(); later
 * writes answer at once. It records every key that was ever in two writes at once.
 */
function gatedWriter(first: FirstAnswer) {
  const calls: PendingWrite[][] = [];
  const inFlight = new Set<string>();
  const overlaps: string[] = [];
  let release = () => {};
  const firstAnswer = new Promise<void>((resolve) => (release = resolve));
  const writer = stubWriter({
    maxBatchRows: 500,
    maxConcurrentWrites: 4,
    write: async (rows): Promise<RowOutcome[]> => {
      calls.push(rows.map(({ key, values }) => ({ key, values })));
      for (const row of rows) {
        if (inFlight.has(row.key)) overlaps.push(row.key);
        inFlight.add(row.key);
      }
      const isFirst = calls.length === 1;
      if (isFirst) await firstAnswer;
      for (const row of rows) inFlight.delete(row.key);
      return isFirst ? first(rows) : created(rows);
    },
  });
  return { writer, calls, overlaps, release: () => release() };
}

const record = (id: string, n: number) => JSON.stringify({ type: 'RECORD', record: { stream: 'items', data: { id, n }, emitted_at: 0 } });
const state = (at: number) => JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: 'items' }, stream_state: { at } } } });
const stateBody = (at: number) => ({ type: 'STREAM', stream: { stream_descriptor: { name: 'items' }, stream_state: { at } } });

/** 500 rows (a store chunk and a write batch: it goes out and hangs) and a state; then `later` while it hangs; then the answer. */
async function scenario(first: FirstAnswer, later: string[]) {
  const gated = gatedWriter(first);
  const observed = { writesBeforeLaterRows: 0, writesAfterLaterRows: 0 };
  let line = 0;
  const messages = (lines: string[]): InputMessage[] => lines.map((text) => classifyLine(text, ++line, 'auto'));
  async function* input(): AsyncGenerator<InputMessage[]> {
    yield messages([...Array.from({ length: 500 }, (_, i) => record(`k${i}`, i)), state(1)]);
    observed.writesBeforeLaterRows = gated.calls.length;
    yield messages(later);
    observed.writesAfterLaterRows = gated.calls.length;
    gated.release();
  }
  const plans = resolveStreamPlans(config);
  const store = new StateStore(':memory:');
  const released: ReleasedState<InputState>[] = [];
  const rejected: RejectedRecord[] = [];
  const opened = new Map([[plans.plans[0], {
    writer: gated.writer,
    objectId: 'memory:items',
    openRemovalWriter: async (): Promise<ObjectWriter> => { throw new Error('not used'); },
  }]]);
  const silent = new Logger(new Writable({ write: (_c, _e, done) => done() }));
  const result = await runSync(input(), {
    plans, opened, store, log: silent, releaseState: async (s) => void released.push(s), onRejected: (r) => void rejected.push(r),
  });
  store.close();
  expect(observed).toEqual({ writesBeforeLaterRows: 1, writesAfterLaterRows: 1 });
  expect(gated.overlaps).toEqual([]);
  return { result, calls: gated.calls, released: released.map((s) => s.body.body), rejected };
}

describe('a later row of a key whose write is in flight', () => {
  it('waits for that write, is replaced by a still later row, then goes out with only its changed fields', async () => {
    const { result, calls, released } = await scenario(created, [record('k7', 70), record('k7', 71), record('k8', 8), state(2)]);
    expect(result.fatal).toBeUndefined();
    // The first batch, then k7's last row alone with its changed field (and the key); k8's repeat is unchanged.
    expect(calls.map((rows) => rows.length)).toEqual([500, 1]);
    expect(calls[1]).toEqual([{ key: 'k7', values: { id: 'k7', n: 71 } }]);
    expect(result.counts.total()).toMatchObject({ received: 503, created: 501, unchanged: 1, skipped: 1, rejected: 0 });
    expect(released).toEqual([stateBody(1), stateBody(2)]);
  });

  it('is sent whole after the CRM rejected the earlier row, and only the earlier row is reported', async () => {
    const rejectK7: FirstAnswer = (rows) => rows.map((row) => (row.key === 'k7' ? { status: 'rejected', code: 'INVALID', message: 'bad' } : { status: 'created', id: row.key }));
    const { result, calls, released, rejected } = await scenario(rejectK7, [record('k7', 71), state(2)]);
    expect(result.fatal).toBeUndefined();
    expect(calls[1]).toEqual([{ key: 'k7', values: { id: 'k7', n: 71 } }]);
    expect(rejected.map((r) => [r.key, r.line])).toEqual([['k7', 8]]);
    expect(result.counts.total()).toMatchObject({ received: 501, created: 500, rejected: 1 });
    expect(released).toEqual([stateBody(1), stateBody(2)]);
  });

  it('is not sent when the earlier write\'s outcome was lost: both are reported unknown, no state after them goes out', async () => {
    const lost: FirstAnswer = (rows) => rows.map((row) => (row.key === 'k7' ? { status: 'unknown', code: 'unknown_outcome', message: 'the answer was lost' } : { status: 'created', id: row.key }));
    const { result, calls, released, rejected } = await scenario(lost, [record('k7', 71), record('k9', 90), state(2)]);
    expect(result.fatal?.code).toBe('unknown_outcome');
    expect(calls.flat().filter((row) => row.key === 'k7')).toHaveLength(1);
    expect(rejected.map((r) => [r.key, r.rejection.code])).toEqual([['k7', 'unknown_outcome'], ['k7', 'unknown_outcome']]);
    // k9's later row waited for its batch too, then went out.
    expect(calls[1]).toEqual([{ key: 'k9', values: { id: 'k9', n: 90 } }]);
    expect(result.counts.total()).toMatchObject({ received: 502, created: 500, unknown: 2 });
    expect(released).toEqual([]);
  });

  it('is not sent when the earlier write failed: the run stops and no state after the failed rows goes out', async () => {
    const failing: FirstAnswer = () => { throw transientError('the CRM is down'); };
    const { result, calls, released } = await scenario(failing, [record('k7', 71), state(2)]);
    expect(result.fatal?.message).toBe('the CRM is down');
    expect(calls).toHaveLength(1);
    expect(released).toEqual([]);
  });
});
