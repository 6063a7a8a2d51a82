// The real CLI writing into the HubSpot emulator in each mode; the emulator's store is the truth.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { byType, runCli, summaryOf } from '../support/run-cli.ts';
import { hubspotConfig, invoiceRows, jsonl, startEmulator, UPSERT_BY_NUMBER, writeCalls } from './support.ts';

let emulator: HubSpotEmulator;
beforeEach(async () => { emulator = await startEmulator(); });
afterEach(async () => { await emulator.close(); });

const byNumber = (em: HubSpotEmulator) => new Map(em.records('invoices').map((r) => [r.properties.invoice_number, r]));

describe('HubSpot write', () => {
  it('upserts 250 rows with exact typed values in ceil(250/100) write calls', async () => {
    const { path } = hubspotConfig(emulator, UPSERT_BY_NUMBER);
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(250)) });
    expect(run.code, run.stderr).toBe(0);
    expect(writeCalls(emulator)).toEqual(['upsert', 'upsert', 'upsert']);
    const records = byNumber(emulator);
    expect(records.size).toBe(250);
    expect(records.get('INV-00001')!.properties).toMatchObject({
      customer_email: 'buyer1@example.com',
      amount: '1.5',
      status: 'paid',
      tags: 'priority;recurring',
      due_date: '2026-03-01',
      issued_at: '2026-02-01T08:30:00.000Z',
      is_overdue: 'false',
    });
    expect(records.get('INV-00002')!.properties).toMatchObject({ status: 'void', tags: '', is_overdue: 'true' });
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 250, created: 250, api_calls: 3 });
  });

  it('reports per object what became of the rows, the calls made and the time taken (--report)', async () => {
    const { dir, path } = hubspotConfig(emulator, { mode: 'update', match: { source: 'invoice_id', destination: 'invoice_number' } });
    emulator.seedRecords('invoices', [{ invoice_number: 'INV-00001', amount: '1' }]);
    const reportPath = `${dir}/report.json`;
    const run = await runCli(['write', '--config', path, '--report', reportPath], { stdin: jsonl(invoiceRows(3)) });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    // One batch/read to split known from unknown keys, one batch/update for the known one.
    expect(report.objects['objects[0]']).toMatchObject({ received: 3, updated: 1, not_found: 2, api_calls: 2, duration_ms: expect.any(Number) });
    expect(report).toMatchObject({ status: 'succeeded', total: { received: 3 }, api_calls: expect.any(Number) });
    expect(report.api_calls).toBeGreaterThan(2);
  });

  it('upsert updates the records that exist and creates the others', async () => {
    emulator.seedRecords('invoices', [{ invoice_number: 'INV-00000', amount: '999', status: 'open' }]);
    const { path } = hubspotConfig(emulator, UPSERT_BY_NUMBER);
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(3)) });
    expect(run.code, run.stderr).toBe(0);
    expect(emulator.records('invoices')).toHaveLength(3);
    expect(byNumber(emulator).get('INV-00000')!.properties.amount).toBe('0.5');
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 3, created: 2, updated: 1 });
  });

  it('insert creates new keys and never modifies an existing record', async () => {
    emulator.seedRecords('invoices', [{ invoice_number: 'INV-00001', amount: '7', status: 'open' }]);
    const { path } = hubspotConfig(emulator, { mode: 'insert', match: { source: 'invoice_id', destination: 'invoice_number' } });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(3)) });
    expect(run.code, run.stderr).toBe(0);
    const records = byNumber(emulator);
    expect(records.size).toBe(3);
    expect(records.get('INV-00001')!.properties.amount).toBe('7');
    expect(records.get('INV-00002')!.properties.amount).toBe('2.5');
    expect(writeCalls(emulator)).toEqual(['create']);
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 3, created: 2, updated: 0, skipped: 1, rejected: 0 });
  });

  it('update modifies matched records and never creates: unknown keys are counted not_found', async () => {
    emulator.seedRecords('invoices', [
      { invoice_number: 'INV-00000', amount: '1', status: 'open' },
      { invoice_number: 'INV-00002', amount: '1', status: 'open' },
    ]);
    const { path } = hubspotConfig(emulator, { mode: 'update', match: { source: 'invoice_id', destination: 'invoice_number' } });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(4)) });
    expect(run.code, run.stderr).toBe(0);
    const records = byNumber(emulator);
    expect(records.size).toBe(2);
    expect(records.get('INV-00002')!.properties).toMatchObject({ amount: '2.5', status: 'void' });
    expect(writeCalls(emulator)).toEqual(['update']);
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 4, created: 0, updated: 2, not_found: 2, rejected: 0 });
  });

  it('update by hs_object_id sends the record id without idProperty', async () => {
    const [seeded] = emulator.seedRecords('invoices', [{ invoice_number: 'INV-7', amount: '1' }]);
    const { path } = hubspotConfig(emulator, { mode: 'update', match: { source: 'record_id', destination: 'hs_object_id' } });
    const rows = [{ record_id: seeded.id, amount: 42 }, { record_id: '999999999', amount: 1 }];
    const run = await runCli(['write', '--config', path], { stdin: jsonl(rows) });
    expect(run.code, run.stderr).toBe(0);
    expect(byNumber(emulator).get('INV-7')!.properties.amount).toBe('42');
    const update = emulator.requests.find((r) => r.path.endsWith('/batch/update'))!;
    expect(update.body).toMatchObject({ inputs: [{ id: seeded.id, properties: { amount: '42' } }] });
    expect(update.body.inputs[0].idProperty).toBeUndefined();
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 2, created: 0, updated: 1, not_found: 1 });
  });

  it('rejects a bad row with its reason while its batch-mates land, and counts it in the state', async () => {
    const { path } = hubspotConfig(emulator, { ...UPSERT_BY_NUMBER, stream: 'invoices' });
    const rows = invoiceRows(5);
    rows[1].status = 'refunded';
    rows[3].amount = 'twelve';
    const lines = [...rows.map((data) => JSON.stringify({ type: 'RECORD', record: { stream: 'invoices', data, emitted_at: 0 } })),
      JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: 'invoices' }, stream_state: { at: 1 } } } })];
    const run = await runCli(['write', '--config', path], { stdin: lines });
    expect(run.code, run.stderr).toBe(0);
    expect([...byNumber(emulator).keys()].sort()).toEqual(['INV-00000', 'INV-00002', 'INV-00004']);
    expect(byType(run.messages, 'STATE')[0].state.destinationStats).toEqual({ recordCount: 5, rejectedRecordCount: 2 });
    expect(run.stderr).toContain('INVALID_OPTION [status]');
    expect(run.stderr).toContain('INVALID_NUMBER [amount]');
    expect(writeCalls(emulator)).toEqual(['upsert']);
  });

  it('a second identical run sends no write at all', async () => {
    const { path } = hubspotConfig(emulator, UPSERT_BY_NUMBER);
    const first = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(150)) });
    expect(first.code, first.stderr).toBe(0);
    emulator.clearRequests();
    const second = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(150)) });
    expect(second.code, second.stderr).toBe(0);
    expect(writeCalls(emulator)).toEqual([]);
    expect(summaryOf(second.stderr)['invoices']).toMatchObject({ received: 150, unchanged: 150, created: 0, updated: 0 });
  });

  it('rejects the row HubSpot refuses inside a 207 (a required property missing) and lands its batch-mates', async () => {
    const { path } = hubspotConfig(emulator, { mode: 'insert', match: { source: 'invoice_id' } });
    const rows = invoiceRows(4).map((row) => ({ ...row, invoice_number: row.invoice_id }));
    delete (rows[2] as Record<string, unknown>).invoice_number;
    const run = await runCli(['write', '--config', path], { stdin: jsonl(rows) });
    expect(run.code, run.stderr).toBe(0);
    expect(writeCalls(emulator)).toEqual(['create']);
    expect(emulator.requests.find((r) => r.path.endsWith('/batch/create'))!.status).toBe(207);
    expect([...byNumber(emulator).keys()].sort()).toEqual(['INV-00000', 'INV-00001', 'INV-00003']);
    expect(run.stderr).toMatch(/rejected line 3 \(key INV-00002\): REQUIRED_FIELD \[invoice_number\]/);
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 4, created: 3, rejected: 1 });
  });

  it('isolates a row HubSpot refuses for the whole batch (unique value taken) by bisecting', async () => {
    emulator.seedRecords('invoices', [{ invoice_number: 'TAKEN', customer_email: 'x@example.com' }]);
    const rows = invoiceRows(8).map((row) => ({ ...row, invoice_number: row.invoice_id }));
    rows[5].invoice_number = 'TAKEN';
    const { path } = hubspotConfig(emulator, {
      mode: 'insert', match: { source: 'invoice_id' },
      fields: [{ source: 'invoice_number', destination: 'invoice_number' }, { source: 'amount', destination: 'amount' }],
    });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(rows) });
    expect(run.code, run.stderr).toBe(0);
    expect(emulator.records('invoices')).toHaveLength(8);
    expect(run.stderr).toMatch(/rejected line 6 \(key INV-00005\)/);
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 8, created: 7, rejected: 1 });
  });
});
