// A store that cannot be reached when the run drains its last rows (a PostgreSQL server gone):
// the run stops with the store's error and its counts, and no state after the unrecorded rows
// goes out. The rerun sends them again.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runSync, type StateMessage } from '../../src/engine/sync.ts';
import { classifyLine, type InputMessage } from '../../src/protocol/input.ts';
import { resolveStreamPlans } from '../../src/config/stream-plan.ts';
import { Logger } from '../../src/protocol/log.ts';
import { StateStore } from '../../src/store/state-store.ts';
import { transientError } from '../../src/errors.ts';
import type { ReleasedState } from '../../src/engine/checkpoints.ts';
import type { Config } from '../../src/config/spec.ts';
import type { RowOutcome } from '../../src/crm/destination.ts';
import { stubWriter } from './support.ts';
import type { ChangeStore } from '../../src/store/store.ts';

const config = {
  crm: { type: 'hubspot', access_token: 'x' },
  objects: [{ stream: 'items', object: 'items', mode: 'upsert', match: { source: 'id', destination: 'id' } }],
} as Config;

const writer = stubWriter({
  write: async (rows): Promise<RowOutcome[]> => rows.map((row) => ({ status: 'created', id: row.key })),
});

/** The store, except that it cannot be reached for lookups. */
function unreachableForLookups(store: StateStore): ChangeStore {
  return new Proxy(store, {
    get(target, name) {
      if (name === 'lookup') return async () => { throw transientError('the state store is unreachable', { code: 'store_unreachable' }); };
      const value = Reflect.get(target, name) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('a store unreachable when the run drains', () => {
  it('stops the run with its error; no state goes out', async () => {
    const lines = [
      JSON.stringify({ type: 'RECORD', record: { stream: 'items', data: { id: 'a', n: 1 }, emitted_at: 0 } }),
      JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: 'items' }, stream_state: { at: 1 } } } }),
    ];
    async function* input(): AsyncGenerator<InputMessage[]> {
      yield lines.map((text, i) => classifyLine(text, i + 1, 'auto'));
    }
    const plans = resolveStreamPlans(config);
    const store = new StateStore(':memory:');
    const released: ReleasedState<StateMessage>[] = [];
    const result = await runSync(input(), {
      plans,
      opened: new Map([[plans.plans[0], { writer, objectId: 'memory:items', openRemovalWriter: async () => writer }]]),
      store: unreachableForLookups(store),
      log: new Logger(new Writable({ write: (_c, _e, done) => done() })),
      releaseState: async (state) => void released.push(state),
      idleFlushMs: 60_000,
    });
    await store.close();
    expect(result.fatal).toMatchObject({ category: 'transient', code: 'store_unreachable' });
    expect(released).toEqual([]);
    expect(result.statesPending).toBe(1);
  });
});
