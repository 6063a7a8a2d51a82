// Issue 12, cases 8 and 12 (parts): what a complete run may remove. An empty complete run (the
// upstream export failed) removes nothing; above objects[].max_removal_percent nothing is removed
// and the run fails naming the numbers and the setting; the summary counts what was cleared or
// archived and the calls it took, on a row named after the stream and the object.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { byType, errorTraces, runCli, summaryOf } from '../support/run-cli.ts';
import { hubspotConfig, invoiceRows, startEmulator, UPSERT_BY_NUMBER, writeCalls } from '../hubspot/support.ts';

let emulator: HubSpotEmulator;
beforeEach(async () => { emulator = await startEmulator(); });
afterEach(async () => { await emulator.close(); });

/** Calls on the object's records (reads and writes) since the last clearRequests(). */
const objectCalls = () => emulator.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/crm/v3/objects/')).length;

const airbyteInput = (rows: Record<string, unknown>[]) => [
  ...rows.map((data) => JSON.stringify({ type: 'RECORD', record: { stream: 'invoices', data, emitted_at: 0 } })),
  JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: 'invoices' }, stream_state: { rows: rows.length } } } }),
];

async function loaded(count: number, entry: Record<string, unknown>) {
  const { path } = hubspotConfig(emulator, { ...UPSERT_BY_NUMBER, stream: 'invoices', ...entry });
  const run = (rows: Record<string, unknown>[], args: string[] = []) => runCli(['write', '--config', path, ...args], { stdin: rows.length > 0 ? airbyteInput(rows) : '' });
  const first = await run(invoiceRows(count));
  expect(first.code, first.stderr).toBe(0);
  emulator.clearRequests();
  return { run, path };
}

describe('a complete run', () => {
  it('with no row removes nothing: an empty stdin does not archive the 1,000 records', async () => {
    const ws = await loaded(1000, { on_removal: 'archive' });
    const run = await ws.run([], ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect(emulator.records('invoices')).toHaveLength(1000);
    expect(writeCalls(emulator)).toEqual([]);
    expect(run.stderr).toContain('objects[0]: the complete run held no row of it, so no record is treated as having left the segment');
  });

  it('above max_removal_percent (default 50) removes nothing and fails naming the numbers and the setting', async () => {
    const ws = await loaded(1000, { on_removal: 'archive' });
    const run = await ws.run(invoiceRows(400), ['--complete']);
    expect(run.code).toBe(1);
    expect(emulator.records('invoices')).toHaveLength(1000);
    expect(writeCalls(emulator)).toEqual([]);
    const message = 'objects[0]: this complete run would archive 600 of the 1000 records known for invoices (60%), more than max_removal_percent 50; nothing was removed. '
      + 'If they did leave the segment, set "max_removal_percent": 60 in objects[0] and run again';
    expect(errorTraces(run.messages).map((m) => m.trace.error.message)).toEqual([message]);
    expect(errorTraces(run.messages)[0].trace.error.failure_type).toBe('config_error');
    // The 400 rows were all written (unchanged): their state is the only one, and it went out before the failure.
    expect(byType(run.messages, 'STATE').map((m) => m.state.stream.stream_state)).toEqual([{ rows: 400 }]);
  });

  it('within the configured max_removal_percent archives, and counts what it archived and the calls it took', async () => {
    const ws = await loaded(40, { on_removal: 'archive', max_removal_percent: 40 });
    const run = await ws.run(invoiceRows(25), ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect(emulator.records('invoices')).toHaveLength(25);
    expect(summaryOf(run.stderr)['invoices:invoices']).toMatchObject({ received: 25, unchanged: 25, left_segment: 15, archived: 15, cleared: 0, api_calls: objectCalls() });
    expect(objectCalls()).toBeGreaterThan(0);
  });

  it('clear: the summary says 15 cleared and the calls it took, on a row named stream:object', async () => {
    const ws = await loaded(40, { on_removal: 'clear' });
    const run = await ws.run(invoiceRows(25), ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect(writeCalls(emulator)).toEqual(['update']);
    expect(summaryOf(run.stderr)['invoices:invoices']).toMatchObject({ received: 25, left_segment: 15, cleared: 15, archived: 0, api_calls: objectCalls() });
  });
});

describe('a complete run with a row refused before sending', () => {
  it('keeps its record: a row with a value that cannot convert is in the segment all the same', async () => {
    const ws = await loaded(6, { on_removal: 'archive' });
    const rows = invoiceRows(6);
    rows[4] = { ...rows[4], due_date: 'not a date' };
    const run = await ws.run(rows, ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run.stderr)['invoices:invoices']).toMatchObject({ received: 6, unchanged: 5, rejected: 1, left_segment: 0, archived: 0 });
    expect(emulator.records('invoices')).toHaveLength(6);
  });
});
