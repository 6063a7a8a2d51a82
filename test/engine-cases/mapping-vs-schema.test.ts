// Issue 12, case 6: a mapping that cannot work is found before writing, not row by row. The
// columns the config names (match.source, fields[].source) are checked against the stream's Singer
// SCHEMA and the Airbyte catalog's json_schema; a missing one stops the run with a config error
// naming the column, the stream and the closest columns, and no STATE after it. Independently, a
// stream whose every row was rejected ends the run non-zero.
import { describe, expect, it } from 'vitest';
import { byType, errorTraces, writeJson } from '../support/run-cli.ts';
import { airbyte, invoice, memoryWorkspace, singer } from './support.ts';

const INVOICE_PROPERTIES = { invoice_id: { type: 'string' }, amount: { type: 'number' }, status: { type: 'string' } };

describe('a mapped column missing from the Singer SCHEMA', () => {
  it('stops the run before any row of the stream is written, naming the column, the stream and the closest columns; no STATE', async () => {
    const ws = memoryWorkspace({ match: { source: 'invoice_number', destination: 'invoice_id' } });
    const input = [singer.schema(), singer.record(invoice(1)), singer.state({ at: 1 }), singer.record(invoice(2)), singer.state({ at: 2 })];
    const run = await ws.run(input, 'singer');
    expect(run.code).toBe(1);
    expect(run.messages).toEqual([]);
    expect(ws.crm().writes).toEqual([]);
    expect(run.stderr).toContain('config error: objects[0]: column "invoice_number" (match.source) is not in the SCHEMA of stream "invoices"; closest columns: invoice_id, amount, status');
  });

  it('checks fields[].source too, also in a SCHEMA that changes mid-stream: no STATE after the first unwritten row', async () => {
    const ws = memoryWorkspace({ fields: [{ source: 'amount', destination: 'amount' }, { source: 'state', destination: 'status' }] });
    const input = [singer.schema('invoices', { ...INVOICE_PROPERTIES, state: { type: 'string' } }), singer.record(invoice(1, { state: 'open' })), singer.state({ at: 1 }),
      singer.schema('invoices', INVOICE_PROPERTIES), singer.record(invoice(2, { state: 'open' })), singer.state({ at: 2 })];
    const run = await ws.run(input, 'singer');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('config error: objects[0]: column "state" (fields[1].source) is not in the SCHEMA of stream "invoices"; closest columns: status, amount, invoice_id');
    const written = ws.crm().records.invoices;
    expect(written['INV-2']).toBeUndefined();
    expect(run.messages).not.toContainEqual({ at: 2 });
    // The row before the new SCHEMA may or may not have gone out before the stop; its state only if it did.
    if (run.messages.length > 0) expect(written['INV-1']).toBeDefined();
  });

  it('a SCHEMA that lists no properties, or allows any, is not checked', async () => {
    const ws = memoryWorkspace();
    const open = JSON.stringify({ type: 'SCHEMA', stream: 'invoices', schema: { type: 'object', properties: { id: {} }, additionalProperties: true }, key_properties: [] });
    const run = await ws.run([JSON.stringify({ type: 'SCHEMA', stream: 'invoices', schema: { type: 'object' }, key_properties: [] }), open, singer.record(invoice(1)), singer.state({ at: 1 })], 'singer');
    expect(run.code, run.stderr).toBe(0);
    expect(run.messages).toEqual([{ at: 1 }]);
  });
});

describe('a mapped column missing from the Airbyte catalog json_schema', () => {
  it('fails before reading any record: TRACE config_error, no STATE, nothing written', async () => {
    const ws = memoryWorkspace({ match: { source: 'invoice_number', destination: 'invoice_id' } });
    const catalog = writeJson(ws.dir, 'catalog.json', { streams: [{
      stream: { name: 'invoices', json_schema: { type: 'object', properties: INVOICE_PROPERTIES }, supported_sync_modes: ['incremental'] },
      sync_mode: 'incremental', destination_sync_mode: 'append_dedup',
    }] });
    const run = await ws.run([airbyte.record(invoice(1)), airbyte.state(1)], 'airbyte', ['--catalog', catalog]);
    expect(run.code).toBe(1);
    expect(byType(run.messages, 'STATE')).toEqual([]);
    expect(errorTraces(run.messages)[0].trace.error).toMatchObject({
      failure_type: 'config_error',
      message: 'objects[0]: column "invoice_number" (match.source) is not in the catalog json_schema of stream "invoices"; closest columns: invoice_id, amount, status',
    });
  });
});

describe('a stream whose every row was rejected', () => {
  it('ends the run non-zero, naming the stream and the first reason', async () => {
    const ws = memoryWorkspace({}, { rejectValue: 'INVALID' });
    const run = await ws.run([airbyte.record(invoice(1, { status: 'INVALID' })), airbyte.record(invoice(2, { status: 'INVALID' })), airbyte.state(1)], 'airbyte');
    expect(run.code).toBe(1);
    expect(errorTraces(run.messages)[0].trace.error.message).toBe(
      'invoices:invoices: all 2 row(s) were rejected, so nothing was written (first: line 1, INVALID_OPTION [status]: INVALID is not a valid option); see the rejected rows for the others',
    );
  });

  it('a stream with some rows written still ends 0', async () => {
    const ws = memoryWorkspace({}, { rejectValue: 'INVALID' });
    const run = await ws.run([airbyte.record(invoice(1, { status: 'INVALID' })), airbyte.record(invoice(2)), airbyte.state(1)], 'airbyte');
    expect(run.code, run.stderr).toBe(0);
  });
});

describe('a stream whose rows were all rejected or replaced by a later rejected row', () => {
  it('ends non-zero too, and a complete run removes nothing', async () => {
    const ws = memoryWorkspace({ on_removal: 'archive' }, { rejectValue: 'INVALID' });
    expect((await ws.run([airbyte.record(invoice(1)), airbyte.record(invoice(2))], 'airbyte')).code).toBe(0);
    const run = await ws.run([airbyte.record(invoice(1)), airbyte.record(invoice(1, { status: 'INVALID' }))], 'airbyte', ['--complete']);
    expect(run.code).toBe(1);
    expect(errorTraces(run.messages)[0].trace.error.message).toContain('invoices:invoices: all 1 row(s) were rejected, so nothing was written');
    expect(run.stderr).toContain('objects[0]: the complete run had every row of it rejected, so no record is treated as having left the segment');
    expect(Object.keys(ws.crm().records.invoices).sort()).toEqual(['INV-1', 'INV-2']);
  });
});
