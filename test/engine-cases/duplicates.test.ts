// Issue 12, case 4: a key that comes several times in one run (incremental and CDC streams): the
// last row is the current one. It is written, whether the earlier row still waits unsent (replaced
// in place), is in a write in flight (the later row waits for it, then is diffed against what it
// left), or settled long ago. The superseded rows count as `skipped`, never as rejected.
import { describe, expect, it } from 'vitest';
import { summaryOf } from '../support/run-cli.ts';
import { invoice, memoryWorkspace, singer } from './support.ts';

const rows = (count: number) => Array.from({ length: count }, (_, i) => invoice(i));

describe('a key twice in one run', () => {
  it('writes the last row when the first still waits unsent, and counts the first as skipped (superseded)', async () => {
    const ws = memoryWorkspace();
    const input = [singer.schema(), singer.record(invoice(1)), singer.record(invoice(2)), singer.record(invoice(1, { amount: 9, status: 'paid' })), singer.state({ at: 3 })];
    const run = await ws.run(input, 'singer');
    expect(run.code, run.stderr).toBe(0);
    expect(run.messages).toEqual([{ at: 3 }]);
    expect(ws.crm().records.invoices['INV-1']).toEqual({ invoice_id: 'INV-1', amount: 9, status: 'paid' });
    expect(ws.crm().writes.flatMap((w) => w.sent.map((row) => row.invoice_id))).toEqual(['INV-1', 'INV-2']);
    expect(summaryOf(run.stderr)['invoices:invoices']).toMatchObject({ received: 3, created: 2, skipped: 1, rejected: 0 });
    expect(run.stderr).toContain('invoices:invoices: 1 row(s) were superseded by a later row of the same key in this run (counted as skipped)');
    expect(run.stderr).not.toContain('rejected line');
  });

  it('writes the last row when the first was written long before, sending only what changed', async () => {
    const ws = memoryWorkspace();
    const input = [...rows(700), invoice(3, { amount: -1 }), invoice(1000), invoice(1000, { amount: 2 })];
    const run = await ws.run(input.map((row) => singer.record(row)), 'singer');
    expect(run.code, run.stderr).toBe(0);
    expect(ws.crm().records.invoices['INV-3']).toEqual({ invoice_id: 'INV-3', amount: -1, status: 'open' });
    expect(ws.crm().records.invoices['INV-1000'].amount).toBe(2);
    expect(ws.crm().writes.flatMap((w) => w.sent).filter((row) => row.invoice_id === 'INV-3')).toEqual([
      { invoice_id: 'INV-3', amount: 3, status: 'open' },
      { invoice_id: 'INV-3', amount: -1 },
    ]);
    const counts = summaryOf(run.stderr)['invoices:invoices'];
    expect(counts).toMatchObject({ received: 703, created: 701, rejected: 0 });
    // INV-3's later row updates it; INV-1000's first row is replaced unsent (skipped), or updated if it went out first.
    expect(counts.updated + counts.skipped).toBe(2);
    expect(counts.updated).toBeGreaterThanOrEqual(1);
  });

  it('writes a later good row of a key whose first row the CRM rejected; only the bad row is reported', async () => {
    const dir = memoryWorkspace({}, { rejectValue: 'INVALID' });
    const input = rows(1500);
    input[2] = invoice(2, { status: 'INVALID' });
    input.push(invoice(2, { status: 'paid' }));
    const run = await dir.run(input.map((row) => singer.record(row)), 'singer');
    expect(run.code, run.stderr).toBe(0);
    expect(dir.crm().records.invoices['INV-2']).toEqual({ invoice_id: 'INV-2', amount: 2, status: 'paid' });
    expect(summaryOf(run.stderr)['invoices:invoices']).toMatchObject({ received: 1501, created: 1500, rejected: 1, skipped: 0 });
    expect(run.stderr).toContain('rejected line 3 (key INV-2): INVALID_OPTION');
  });

  it('with change detection off, replaces the unsent row in place', async () => {
    const ws = memoryWorkspace({}, {}, { change_detection: 'off' });
    const input = [invoice(1), invoice(2), invoice(1, { amount: 5 }), invoice(1, { amount: 6 })].map((row) => singer.record(row));
    const run = await ws.run(input, 'singer');
    expect(run.code, run.stderr).toBe(0);
    expect(ws.crm().records.invoices['INV-1'].amount).toBe(6);
    expect(ws.crm().writes.map((w) => w.rows)).toEqual([2]);
    expect(summaryOf(run.stderr)['invoices:invoices']).toMatchObject({ received: 4, created: 2, skipped: 2 });
  });

  it('an identical repeat on the next run: the last row is unchanged, the earlier one skipped', async () => {
    const ws = memoryWorkspace();
    const input = [invoice(1), invoice(2), invoice(1)].map((row) => singer.record(row));
    await ws.run(input, 'singer');
    const again = await ws.run(input, 'singer');
    expect(summaryOf(again.stderr)['invoices:invoices']).toMatchObject({ received: 3, unchanged: 2, skipped: 1 });
    expect(ws.crm().writes).toHaveLength(1);
  });
});

