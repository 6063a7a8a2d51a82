// One suite for every store backend: what the engine relies on (hashes and record ids of what was
// written, keys seen and departed, the create journal, table versions, one run at a time) holds
// the same for the local SQLite file and the shared PostgreSQL schema. Each "run" is a store opened
// afresh on the same location, as a new process (or a new container) would.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres-store.ts';
import { StateStore } from '../../src/store/state-store.ts';
import type { ChangeStore } from '../../src/store/store.ts';
import { usePostgres } from '../support/postgres.ts';
import { tempDir } from '../support/run-cli.ts';

const postgres = usePostgres();
let schemas = 0;

interface Backend {
  name: string;
  /** A new, empty location; opening it again is the next run on the same store. */
  location(): string;
  open(location: string): Promise<ChangeStore>;
}

const backends: Backend[] = [
  { name: 'SQLite', location: () => join(tempDir(), 'state.db'), open: async (path) => new StateStore(path) },
  { name: 'PostgreSQL', location: () => postgres().url({ query: `schema=store_test_${++schemas}` }), open: (url) => PostgresStore.open(url) },
];

const opened: ChangeStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

describe.each(backends)('the $name store', (backend) => {
  async function run(location: string): Promise<ChangeStore> {
    const store = await backend.open(location);
    opened.push(store);
    return store;
  }

  it('keeps what was written (record id and hashes) for the next run, and tells written keys from keys only seen', async () => {
    const location = backend.location();
    const first = await run(location);
    await first.markSeen('obj', ['seen-only']);
    await first.saveWrites('obj', [
      { key: 'a', crmId: '101', hashesJson: '{"name":"h1"}' },
      { key: 'b', crmId: '102', hashesJson: '{"name":"h2","email":"h3"}' },
    ]);
    await first.close();
    const second = await run(location);
    expect(second.runId).toBeGreaterThan(first.runId);
    const found = await second.lookup('obj', ['a', 'b', 'seen-only', 'never']);
    expect([...found.keys()].sort()).toEqual(['a', 'b', 'seen-only']);
    expect(found.get('b')).toMatchObject({ crmId: '102', hashesJson: '{"name":"h2","email":"h3"}', written: true, lastSeen: first.runId });
    expect(found.get('b')!.hashes).toEqual({ name: 'h2', email: 'h3' });
    expect(found.get('seen-only')).toMatchObject({ crmId: null, written: false });
    expect((await second.lookup('other-object', ['a'])).size).toBe(0);
  });

  it('keeps the record id when a later write does not name it, and updates the hashes', async () => {
    const store = await run(backend.location());
    await store.saveWrites('obj', [{ key: 'a', crmId: '101', hashesJson: '{"x":"1"}' }]);
    await store.saveWrites('obj', [{ key: 'a', crmId: null, hashesJson: '{"x":"2"}' }]);
    expect((await store.lookup('obj', ['a'])).get('a')).toMatchObject({ crmId: '101', hashesJson: '{"x":"2"}' });
  });

  it('marks the keys a lookup found as seen when asked, answering them as they were before', async () => {
    const location = backend.location();
    const first = await run(location);
    await first.saveWrites('obj', [{ key: 'kept', crmId: '1', hashesJson: '{}' }, { key: 'gone', crmId: '2', hashesJson: '{}' }]);
    await first.close();
    const second = await run(location);
    const found = await second.lookup('obj', ['kept', 'new'], { markFoundSeen: true });
    expect([...found.keys()]).toEqual(['kept']);
    expect(found.get('kept')!.lastSeen).toBe(first.runId);
    expect((await second.lookup('obj', ['new'])).size).toBe(0);
    expect((await second.departedPage('obj', '', 10)).map((r) => r.key)).toEqual(['gone']);
  });

  it('takes a key marked seen twice in one call', async () => {
    const store = await run(backend.location());
    await store.markSeen('obj', ['k', 'k', 'j']);
    expect([...(await store.lookup('obj', ['k', 'j'])).keys()].sort()).toEqual(['j', 'k']);
  });

  it('reports keys written before and absent from a run as departed, in key order, page by page, until handled', async () => {
    const location = backend.location();
    const first = await run(location);
    const keys = ['b', 'a', 'B', 'é', 'c'];
    await first.saveWrites('obj', keys.map((key, i) => ({ key, crmId: `id-${i}`, hashesJson: '{}' })));
    await first.close();
    const second = await run(location);
    await second.markSeen('obj', ['c']);
    expect(await second.segmentCounts('obj')).toEqual({ known: 5, departed: 4 });
    // Byte order, as SQLite compares: upper case before lower case, accents last.
    const page1 = await second.departedPage('obj', '', 2);
    expect(page1.map((r) => r.key)).toEqual(['B', 'a']);
    const page2 = await second.departedPage('obj', 'a', 10);
    expect(page2.map((r) => r.key)).toEqual(['b', 'é']);
    expect(page2[0]).toEqual({ key: 'b', crmId: 'id-0', hashes: {} });
    await second.markDeparted('obj', ['B', 'a']);
    await second.forget('obj', ['b']);
    expect((await second.departedPage('obj', '', 10)).map((r) => r.key)).toEqual(['é']);
    expect((await second.lookup('obj', ['b'])).size).toBe(0);
    expect(await second.segmentCounts('obj')).toEqual({ known: 2, departed: 1 });
  });

  it('tells departures run by run: a key seen by one run and absent from the next has departed, and one back after leaving is in again', async () => {
    const location = backend.location();
    const first = await run(location);
    await first.saveWrites('obj', ['a', 'b', 'c'].map((key) => ({ key, crmId: `id-${key}`, hashesJson: '{}' })));
    await first.close();
    // Seen by a lookup (an unchanged row): not departed in this run.
    const second = await run(location);
    await second.lookup('obj', ['a', 'b'], { markFoundSeen: true });
    expect((await second.departedPage('obj', '', 10)).map((r) => r.key)).toEqual(['c']);
    await second.markDeparted('obj', ['c']);
    await second.close();
    // Absent from the next run: departed then, whatever an earlier run saw.
    const third = await run(location);
    await third.lookup('obj', ['a', 'c'], { markFoundSeen: true });
    expect(await third.segmentCounts('obj')).toEqual({ known: 3, departed: 1 });
    expect((await third.departedPage('obj', '', 10)).map((r) => r.key)).toEqual(['b']);
    await third.close();
    // "c" came back in the third run: in the segment again, so it can depart again.
    const fourth = await run(location);
    await fourth.markSeen('obj', ['a']);
    expect((await fourth.departedPage('obj', '', 10)).map((r) => r.key)).toEqual(['b', 'c']);
  });

  it('journals creates for the next run to settle: found ones are recorded as written, lost ones forgotten', async () => {
    const location = backend.location();
    const first = await run(location);
    await first.journalCreates('obj', `${first.runId}.1`, [
      { key: 'landed', hashesJson: '{"n":"1"}' },
      { key: 'lost', hashesJson: '{"n":"2"}' },
      { key: 'answered', hashesJson: '{"n":"3"}' },
    ]);
    expect(await first.unresolvedCreates('obj')).toEqual([]); // its own creates are not an earlier run's
    await first.saveWrites('obj', [{ key: 'answered', crmId: '3', hashesJson: '{"n":"3"}' }], ['answered']);
    await first.finishRun('failed');
    await first.close();
    const second = await run(location);
    const pending = await second.unresolvedCreates('obj');
    expect(pending.map(({ key, batchId, hashesJson }) => ({ key, batchId, hashesJson }))).toEqual([
      { key: 'landed', batchId: `${first.runId}.1`, hashesJson: '{"n":"1"}' },
      { key: 'lost', batchId: `${first.runId}.1`, hashesJson: '{"n":"2"}' },
    ]);
    expect(pending[0].runEndedAt).toBeGreaterThan(Date.now() - 60_000);
    await second.settleCreates('obj', [{ key: 'landed', crmId: '900' }], ['lost']);
    expect(await second.unresolvedCreates('obj')).toEqual([]);
    const found = await second.lookup('obj', ['landed', 'lost']);
    expect([...found.keys()]).toEqual(['landed']);
    expect(found.get('landed')).toMatchObject({ crmId: '900', hashesJson: '{"n":"1"}', written: true, lastSeen: first.runId });
    await second.journalCreates('obj', `${second.runId}.1`, [{ key: 'refused', hashesJson: '{}' }]);
    await second.resolveCreates('obj', ['refused']);
    await second.close();
    expect(await (await run(location)).unresolvedCreates('obj')).toEqual([]);
  });

  it('remembers the last table version announced per object and stream', async () => {
    const location = backend.location();
    const first = await run(location);
    expect(await first.tableVersion('obj', 'invoices')).toBeUndefined();
    await first.saveTableVersion('obj', 'invoices', '1');
    await first.saveTableVersion('obj', 'invoices', '2');
    await first.close();
    const second = await run(location);
    expect(await second.tableVersion('obj', 'invoices')).toBe('2');
    expect(await second.tableVersion('other', 'invoices')).toBeUndefined();
  });

  it('lets one run at a time hold it: a second is refused naming the holder, and takes it once the first closed', async () => {
    const location = backend.location();
    const holder = await run(location);
    expect(await holder.acquireRunLock()).toBeUndefined();
    const second = await run(location);
    await expect(second.acquireRunLock()).rejects.toMatchObject({
      category: 'config', code: 'store_locked', message: expect.stringMatching(new RegExp(`another run is using the state store at .*\\(pid ${process.pid} on host `)),
    });
    await holder.close();
    const third = await run(location);
    expect(await third.acquireRunLock()).toBeUndefined();
  });
});

describe('the PostgreSQL store', () => {
  it('goes on after the server dropped its connections (the pool opens fresh ones)', async () => {
    const store = await PostgresStore.open(postgres().url({ query: `schema=store_test_${++schemas}` }));
    opened.push(store);
    await store.saveWrites('obj', [{ key: 'a', crmId: '1', hashesJson: '{}' }]);
    await postgres().admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'crm-activate'");
    await store.saveWrites('obj', [{ key: 'b', crmId: '2', hashesJson: '{}' }]);
    expect([...(await store.lookup('obj', ['a', 'b'])).keys()].sort()).toEqual(['a', 'b']);
  });

  it('frees the lock the moment its connection drops: the holder is told, the next run takes it over', async () => {
    const location = postgres().url({ query: `schema=store_test_${++schemas}` });
    const holder = await PostgresStore.open(location);
    opened.push(holder);
    let told: (message: string) => void = () => undefined;
    const lost = new Promise<string>((resolve) => (told = resolve));
    await holder.acquireRunLock((message) => told(message));
    await postgres().admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'crm-activate run lock'");
    expect(await lost).toMatch(/^the lock on the state store at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres\?schema=store_test_\d+ was lost/);
    const next = await PostgresStore.open(location);
    opened.push(next);
    expect(await next.acquireRunLock()).toMatch(new RegExp(`^pid ${process.pid} on host `));
  });
});
