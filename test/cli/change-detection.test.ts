// Change detection and segment membership through the real CLI and the in-memory CRM: what is
// sent, what is not, and what happens to rows that left the segment.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { byType, runCli, summaryOf, tempDir, writeJson } from '../support/run-cli.ts';
import type { MemoryBehaviour, MemoryDump } from '../support/memory-destination.ts';

const FIELDS = { invoice_id: 'string', amount: 'number', status: 'string', note: 'string' } as const;

function workspace(object: Record<string, unknown> = {}, behaviour: Partial<MemoryBehaviour> = {}) {
  const dir = tempDir();
  const dumpPath = join(dir, 'crm.json');
  const config = writeJson(dir, 'config.json', {
    crm: { type: 'hubspot', access_token: 'pat-na1-secret-token-123' },
    objects: [{ object: 'invoices', mode: 'upsert', match: { source: 'invoice_id', destination: 'invoice_id' }, ...object }],
    state: { path: join(dir, 'state.db') },
  });
  const env = (extra: Partial<MemoryBehaviour> = {}) => ({
    MEMORY_CRM: JSON.stringify({ objects: { invoices: FIELDS }, rejectValue: 'INVALID', dumpPath, batchSize: 100, ...behaviour, ...extra }),
  });
  const crm = () => JSON.parse(readFileSync(dumpPath, 'utf8')) as MemoryDump;
  const run = (rows: object[], args: string[] = [], extra: Partial<MemoryBehaviour> = {}) =>
    runCli(['write', '--config', config, ...args], { entry: 'memory', env: env(extra), stdin: rows.map((r) => JSON.stringify(r)) });
  return { dir, run, crm };
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ invoice_id: `INV-${i}`, amount: i, status: 'open', note: `n${i}` }));

describe('change detection', () => {
  it('makes zero write calls on a second identical run', async () => {
    const ws = workspace();
    const first = await ws.run(rows(250));
    expect(first.code, first.stderr).toBe(0);
    expect(ws.crm().writes).toHaveLength(3);
    const second = await ws.run(rows(250));
    expect(second.code, second.stderr).toBe(0);
    expect(ws.crm().writes).toHaveLength(3);
    expect(summaryOf(second.stderr)['invoices']).toMatchObject({ received: 250, unchanged: 250, created: 0, updated: 0 });
  });

  it('sends exactly the 37 changed rows in one call, each with only its changed fields and the key', async () => {
    const ws = workspace();
    await ws.run(rows(1000));
    const changed = rows(1000).map((row, i) => (i % 27 === 5 ? { ...row, amount: row.amount + 1000 } : row));
    const changedCount = changed.filter((row, i) => row.amount !== i).length;
    expect(changedCount).toBe(37);
    const second = await ws.run(changed);
    expect(second.code, second.stderr).toBe(0);
    const writes = ws.crm().writes.slice(10);
    expect(writes.map((w) => w.rows)).toEqual([37]);
    for (const sent of writes[0].sent) expect(Object.keys(sent).sort()).toEqual(['amount', 'invoice_id']);
    expect(summaryOf(second.stderr)['invoices']).toMatchObject({ updated: 37, unchanged: 963 });
  });

  it('sends a row rejected last run again, and only that row', async () => {
    const ws = workspace();
    const input = rows(5);
    input[2].status = 'INVALID';
    const first = await ws.run(input);
    expect(summaryOf(first.stderr)['invoices']).toMatchObject({ created: 4, rejected: 1 });
    input[2].status = 'open';
    const second = await ws.run(input);
    expect(summaryOf(second.stderr)['invoices']).toMatchObject({ created: 1, unchanged: 4 });
    expect(ws.crm().writes.at(-1)!.sent).toEqual([{ invoice_id: 'INV-2', amount: 2, status: 'open', note: 'n2' }]);
  });

  it('--full-resync sends every row again', async () => {
    const ws = workspace();
    await ws.run(rows(10));
    const again = await ws.run(rows(10), ['--full-resync']);
    expect(summaryOf(again.stderr)['invoices']).toMatchObject({ updated: 10, unchanged: 0 });
  });

  it('insert mode re-sends a changed row whole, never a partial update', async () => {
    const ws = workspace({ mode: 'insert', match: { source: 'invoice_id' } });
    await ws.run(rows(3));
    const changed = rows(3);
    changed[1].note = 'edited';
    await ws.run(changed);
    expect(ws.crm().writes.at(-1)!.sent).toEqual([{ invoice_id: 'INV-1', amount: 1, status: 'open', note: 'edited' }]);
  });

  it('a dry run reports the plan and changes neither the CRM nor the store', async () => {
    const ws = workspace();
    await ws.run(rows(10));
    const changed = rows(12);
    changed[3].amount = 99;
    const dry = await ws.run(changed, ['--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(summaryOf(dry.stderr)['invoices']).toMatchObject({ created: 2, updated: 1, unchanged: 9 });
    expect(dry.stderr).toContain('update INV-3: {"amount":99,"invoice_id":"INV-3"}');
    expect(ws.crm().writes).toHaveLength(1);
    const real = await ws.run(changed);
    expect(summaryOf(real.stderr)['invoices']).toMatchObject({ created: 2, updated: 1, unchanged: 9 });
  });

  it('converges after a kill between the CRM write and the store commit', async () => {
    const ws = workspace({ stream: 'invoices' });
    const input = rows(300).map((data) => JSON.stringify({ type: 'RECORD', record: { stream: 'invoices', data, emitted_at: 0 } }));
    const withStates = input.flatMap((line, i) => (i % 100 === 99 ? [line, JSON.stringify({ type: 'STATE', state: { type: 'GLOBAL', global: { stream_states: [] }, n: i } })] : [line]));
    const killed = await runCli(['write', '--config', join(ws.dir, 'config.json')], {
      entry: 'memory', stdin: withStates,
      env: { MEMORY_CRM: JSON.stringify({ objects: { invoices: FIELDS }, dumpPath: join(ws.dir, 'crm.json'), batchSize: 100, concurrency: 1, crashAfterWrite: 2 }) },
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(byType(killed.messages, 'STATE').map((m) => m.state.n)).toEqual([99]);
    const rerun = await runCli(['write', '--config', join(ws.dir, 'config.json')], {
      entry: 'memory', stdin: withStates,
      env: { MEMORY_CRM: JSON.stringify({ objects: { invoices: FIELDS }, dumpPath: join(ws.dir, 'crm.json'), batchSize: 100 }) },
    });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(Object.keys(ws.crm().records.invoices)).toHaveLength(300);
    // Rows 100-199 reached the CRM but not the store: resent (idempotent upsert), not duplicated.
    expect(summaryOf(rerun.stderr)['invoices:invoices']).toMatchObject({ unchanged: 100, updated: 100, created: 100 });
    expect(byType(rerun.messages, 'STATE').map((m) => m.state.n)).toEqual([99, 199, 299]);
  });
});

describe('rows that left the segment', () => {
  const firstRun = async (onRemoval: string) => {
    const ws = workspace({ on_removal: onRemoval });
    await ws.run(rows(6));
    return ws;
  };

  it('are never inferred from an incremental run', async () => {
    const ws = await firstRun('archive');
    const run = await ws.run(rows(4));
    expect(summaryOf(run.stderr)['invoices'].left_segment).toBe(0);
    expect(Object.keys(ws.crm().records.invoices)).toHaveLength(6);
  });

  it('ignore: counted and reported once, not updated', async () => {
    const ws = await firstRun('ignore');
    const run = await ws.run(rows(4), ['--complete']);
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ left_segment: 2, unchanged: 4 });
    expect(run.stderr).toContain('2 record(s) left the segment; they are no longer updated');
    expect(Object.keys(ws.crm().records.invoices)).toHaveLength(6);
    const again = await ws.run(rows(4), ['--complete']);
    expect(summaryOf(again.stderr)['invoices'].left_segment).toBe(0);
  });

  it('clear: empties the mapped fields of records that left, keeping the key', async () => {
    const ws = await firstRun('clear');
    const run = await ws.run(rows(4), ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run.stderr)['invoices'].left_segment).toBe(2);
    expect(ws.crm().records.invoices['INV-5']).toEqual({ invoice_id: 'INV-5', amount: null, status: null, note: null });
    expect(ws.crm().records.invoices['INV-3']).toEqual({ invoice_id: 'INV-3', amount: 3, status: 'open', note: 'n3' });
  });

  it('archive: removes records that left; a returning key is created again', async () => {
    const ws = await firstRun('archive');
    const run = await ws.run(rows(4), ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(ws.crm().records.invoices).sort()).toEqual(['INV-0', 'INV-1', 'INV-2', 'INV-3']);
    const back = await ws.run(rows(6), ['--complete']);
    expect(summaryOf(back.stderr)['invoices']).toMatchObject({ created: 2, unchanged: 4, left_segment: 0 });
  });
});

