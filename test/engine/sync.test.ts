// The engine in-process with the in-memory CRM: many batches completing out of order must still
// release states in order with exact counts.
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runSync } from '../../src/engine/sync.ts';
import type { InputState } from '../../src/protocol/input.ts';
import { readInput } from '../../src/protocol/input.ts';
import { resolveStreamPlans } from '../../src/config/stream-plan.ts';
import { Logger } from '../../src/protocol/log.ts';
import type { ReleasedState } from '../../src/engine/checkpoints.ts';
import type { Config } from '../../src/config/spec.ts';
import { MemoryDestination } from '../support/memory-destination.ts';

const config = {
  crm: { type: 'hubspot', access_token: 'x' },
  objects: [{ object: 'items', mode: 'upsert', match: { source: 'id', destination: 'id' } }],
} as Config;

async function syncLines(lines: string[], destination: MemoryDestination) {
  const plans = resolveStreamPlans(config);
  const opened = new Map();
  for (const plan of plans.plans) {
    const { writer, objectId } = await destination.open(plan);
    opened.set(plan, { writer, objectId, openRemovalWriter: async () => { throw new Error('not used'); } });
  }
  const released: ReleasedState<InputState>[] = [];
  const silent = new Logger(new Writable({ write: (_c, _e, done) => done() }));
  const result = await runSync(readInput(Readable.from(lines.map((l) => `${l}\n`)), 'auto'), {
    plans, opened, log: silent, releaseState: async (state) => void released.push(state),
  });
  return { result, released };
}

describe('runSync', () => {
  it('keeps state order and counts with 40 batches completing out of order', async () => {
    const destination = new MemoryDestination({ objects: { items: { id: 'string', n: 'number' } }, batchSize: 7, concurrency: 5, maxLatencyMs: 15, rejectValue: 'BAD' });
    const lines: string[] = [];
    let expected: { records: number; rejected: number }[] = [];
    let interval = { records: 0, rejected: 0 };
    for (let i = 0; i < 280; i++) {
      const bad = i % 13 === 0;
      lines.push(JSON.stringify({ type: 'RECORD', record: { stream: 'items', data: { id: `k${i}`, n: bad ? 'BAD' : i }, emitted_at: 0 } }));
      interval.records += 1;
      if (bad) interval.rejected += 1;
      if (i % 25 === 24) {
        lines.push(JSON.stringify({ type: 'STATE', state: { type: 'GLOBAL', global: { stream_states: [] }, seq: expected.length } }));
        expected.push(interval);
        interval = { records: 0, rejected: 0 };
      }
    }
    const { result, released } = await syncLines(lines, destination);
    expect(result.fatal).toBeUndefined();
    expect(released.map((s) => s.body.body.seq)).toEqual(expected.map((_, i) => i));
    expect(released.map((s) => s.counts)).toEqual(expected);
    expect(Object.keys(destination.records.items)).toHaveLength(280 - 22);
    const total = result.counts.total();
    expect(total.received).toBe(280);
    expect(total.created + total.rejected).toBe(280);
  });
});
