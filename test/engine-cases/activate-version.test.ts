// Issue 12, case 2: a Singer stream that sends ACTIVATE_VERSION carries its whole table in that
// version, so it is a complete segment for that stream (on_removal applies), as an Airbyte
// full-refresh stream. The rule: an ACTIVATE_VERSION before the stream's first record (opening),
// every record of the stream in that version, the same ACTIVATE_VERSION after its last record
// (closing), a version no earlier run announced (taps keep an incremental stream's version, and a
// resumed table's), and the run ending cleanly. Anything less says nothing about who left.
import { describe, expect, it } from 'vitest';
import { summaryOf } from '../support/run-cli.ts';
import { invoice, memoryWorkspace, singer } from './support.ts';

const rows = (count: number) => Array.from({ length: count }, (_, i) => invoice(i));

async function loadedFive() {
  const ws = memoryWorkspace({ on_removal: 'archive' });
  const first = await ws.run([singer.schema(), ...rows(5).map((row) => singer.record(row))], 'singer');
  expect(first.code, first.stderr).toBe(0);
  return ws;
}

describe('ACTIVATE_VERSION', () => {
  it('around a full table makes it the whole segment: a key absent from it is archived', async () => {
    const ws = await loadedFive();
    const table = [singer.schema(), singer.activate(2), ...rows(4).map((row) => singer.record(row, 'invoices', 2)), singer.activate(2), singer.state({ version: 2 })];
    const run = await ws.run(table, 'singer');
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(ws.crm().records.invoices).sort()).toEqual(['INV-0', 'INV-1', 'INV-2', 'INV-3']);
    expect(summaryOf(run.stderr)['invoices:invoices']).toMatchObject({ received: 4, unchanged: 4, left_segment: 1, archived: 1 });
    expect(run.messages).toEqual([{ version: 2 }]);
  });

  it('a version announced by an earlier run (an incremental stream, a resumed table) removes nothing', async () => {
    const ws = await loadedFive();
    const whole = (count: number, version: number) => [singer.activate(version), ...rows(count).map((row) => singer.record(row, 'invoices', version)), singer.activate(version)];
    expect((await ws.run(whole(5, 2), 'singer')).code).toBe(0);
    const again = await ws.run(whole(2, 2), 'singer');
    expect(again.code, again.stderr).toBe(0);
    expect(Object.keys(ws.crm().records.invoices)).toHaveLength(5);
    expect(again.stderr).toContain('invoices: ACTIVATE_VERSION 2 was announced by an earlier run (an incremental or resumed table)');
    // A new version is a new whole table again.
    const next = await ws.run(whole(4, 3), 'singer');
    expect(next.code, next.stderr).toBe(0);
    expect(Object.keys(ws.crm().records.invoices)).toHaveLength(4);
  });

  it('opening only (the tap stopped before closing the table) removes nothing', async () => {
    const ws = await loadedFive();
    const run = await ws.run([singer.schema(), singer.activate(2), ...rows(3).map((row) => singer.record(row, 'invoices', 2)), singer.state({ version: 2 })], 'singer');
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(ws.crm().records.invoices)).toHaveLength(5);
    expect(summaryOf(run.stderr)['invoices:invoices'].left_segment).toBe(0);
  });

  it('closing only (the rest of a table resumed from an earlier run) removes nothing', async () => {
    const ws = await loadedFive();
    const run = await ws.run([singer.schema(), ...rows(3).map((row) => singer.record(row, 'invoices', 2)), singer.activate(2)], 'singer');
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(ws.crm().records.invoices)).toHaveLength(5);
    expect(run.stderr).toContain('invoices: ACTIVATE_VERSION 2 closed a table this run did not open');
  });

  it('a record of another version between them removes nothing', async () => {
    const ws = await loadedFive();
    const table = [singer.activate(3), singer.record(invoice(0), 'invoices', 3), singer.record(invoice(1), 'invoices', 2), singer.activate(3)];
    const run = await ws.run(table, 'singer');
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(ws.crm().records.invoices)).toHaveLength(5);
    expect(run.stderr).toContain('invoices: a record of version 2 came inside ACTIVATE_VERSION 3');
  });
});
