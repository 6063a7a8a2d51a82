// The real CLI writing through Bulk API 2.0: large runs in a few calls, CSV that survives quotes,
// commas and newlines, nulls as #N/A, and per-row outcomes read back from the result files (which
// the emulator, like Salesforce, does not keep in input order).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../emulators/salesforce/index.ts';
import { runCli, summaryOf } from '../support/run-cli.ts';
import { BY_NUMBER, byNumber, FIELDS, invoiceRows, jsonl, salesforceConfig, startOrg, writeCalls } from './support.ts';

let sf: SalesforceEmulator;
beforeEach(async () => { sf = await startOrg({ bulkProcessingDelayMs: 5 }); });
afterEach(async () => { await sf.close(); });

const jobsCreated = (emulator: SalesforceEmulator) => emulator.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs/ingest'));
const collectionCalls = (emulator: SalesforceEmulator) => emulator.requests.filter((r) => r.path.includes('/composite/sobjects'));
const readJsonl = (path: string) => readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));

describe('Salesforce write through Bulk API 2.0', () => {
  it('upserts 30,000 rows in a handful of Bulk API calls and lands every row', async () => {
    const { path } = salesforceConfig(sf, { mode: 'upsert', ...BY_NUMBER });
    const started = Date.now();
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(30_000)) });
    const elapsedMs = Date.now() - started;
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 30_000, created: 30_000, rejected: 0 });
    const records = byNumber(sf);
    expect(records.size).toBe(30_000);
    expect(records.get('INV-29999')).toMatchObject({
      Amount__c: 29999.25, Quantity__c: 4, Status__c: 'Void', Tags__c: 'Priority;Recurring', Due_Date__c: '2026-03-01',
      Issued_At__c: '2026-02-01T08:30:00.000+0000', Is_Overdue__c: false, Region__c: 'APAC', Customer_Email__c: 'buyer29999@example.com',
    });
    expect(collectionCalls(sf)).toHaveLength(0);
    // Full batches of 10,000 rows: one job each (a source pausing for a second would add a partial one).
    const jobs = jobsCreated(sf);
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    expect(jobs.length).toBeLessThanOrEqual(4);
    expect(jobs[0].body).toEqual({ object: 'Invoice__c', operation: 'upsert', externalIdFieldName: 'Invoice_Number__c', contentType: 'CSV', lineEnding: 'LF', columnDelimiter: 'COMMA' });
    const perJob = ['POST /jobs/ingest', 'PUT /jobs/ingest/{job}/batches', 'PATCH /jobs/ingest/{job}'];
    expect(writeCalls(sf).sort()).toEqual(jobs.flatMap(() => perJob).sort());
    // Result files are read only where the job's counts say there is something in them.
    expect(sf.requests.filter((r) => r.path.endsWith('/successfulResults'))).toHaveLength(jobs.length);
    expect(sf.requests.filter((r) => /\/(failedResults|unprocessedrecords)$/.test(r.path))).toHaveLength(0);
    // Describe, then per job: create, upload, close, polls with growing pauses, the successful results.
    expect(sf.apiCallsUsed()).toBeLessThanOrEqual(50);
    console.log(`30,000-row bulk upsert: ${elapsedMs} ms, ${sf.apiCallsUsed()} API calls, ${jobs.length} jobs`);
  });

  it('writes quotes, commas, newlines and edge spaces exactly, nulls as #N/A, and leaves unsent fields alone', async () => {
    sf.seedRecords('Invoice__c', [{ Invoice_Number__c: 'N-1', Region__c: 'EMEA', Notes__c: 'old', Status__c: 'Open', Amount__c: 5 }]);
    const { path } = salesforceConfig(sf, {
      mode: 'upsert', match: { source: 'number', destination: 'Invoice_Number__c' },
      fields: [{ source: 'notes', destination: 'Notes__c' }, { source: 'amount', destination: 'Amount__c' }, { source: 'region', destination: 'Region__c' }],
    }, { api: 'bulk' });
    const rows = [
      { number: 'N-1', notes: null, amount: 6 },
      { number: 'N-2', notes: 'Smith, Jones and "Partners"\nsecond line\r\nthird', amount: 1, region: 'APAC' },
      { number: 'N-3', notes: '  padded  ', amount: 2, region: 'EMEA' },
    ];
    const run = await runCli(['write', '--config', path], { stdin: jsonl(rows) });
    expect(run.code, run.stderr).toBe(0);
    const records = byNumber(sf);
    expect(records.get('N-1')).toMatchObject({ Notes__c: null, Amount__c: 6, Status__c: 'Open', Region__c: 'EMEA' });
    expect(records.get('N-2')!.Notes__c).toBe('Smith, Jones and "Partners"\nsecond line\r\nthird');
    expect(records.get('N-3')!.Notes__c).toBe('  padded  ');
    const upload = sf.requests.find((r) => r.method === 'PUT')!;
    expect(upload.contentType).toBe('text/csv');
    expect(String(upload.body).split('\n')[0]).toBe('Notes__c,Amount__c,Invoice_Number__c,Region__c');
    expect(String(upload.body)).toContain('#N/A,6,N-1,\n');
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 3, created: 2, updated: 1 });
  });

  it('rejects exactly the rows the result files report failed, with Salesforce\'s code and message', async () => {
    sf.seedRecords('Invoice__c', [{ Invoice_Number__c: 'TAKEN', Region__c: 'EMEA' }]);
    const { path, dir } = salesforceConfig(
      sf,
      { mode: 'insert', match: { source: 'invoice_id' }, fields: [...FIELDS, { source: 'number', destination: 'Invoice_Number__c' }] },
      { api: 'bulk' },
      (d) => ({ rejected_records_path: join(d, 'rejected.jsonl') }),
    );
    // Over two chunks of 200, so the result files come back out of input order.
    const rows = invoiceRows(450).map((row) => ({ ...row, number: row.invoice_id }));
    rows[10].number = 'TAKEN';
    delete rows[420].region;
    const run = await runCli(['write', '--config', path], { stdin: jsonl(rows) });
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 450, created: 448, rejected: 2 });
    const rejected = readJsonl(join(dir, 'rejected.jsonl')).map(({ key, code, field, message }) => ({ key, code, field, message }));
    expect(rejected).toEqual(expect.arrayContaining([
      { key: 'INV-00010', code: 'DUPLICATE_VALUE', field: null, message: expect.stringMatching(/^duplicate value found: Invoice_Number__c duplicates value on record with id: a00/) },
      { key: 'INV-00420', code: 'REQUIRED_FIELD_MISSING', field: 'Region__c', message: 'Required fields are missing: [Region__c]' },
    ]));
    expect(rejected).toHaveLength(2);
    expect(jobsCreated(sf)).toHaveLength(1);
  });

  it('records the right Salesforce id for each key: a later archive deletes exactly the departed records', async () => {
    const { path } = salesforceConfig(sf, { mode: 'upsert', ...BY_NUMBER, on_removal: 'archive' }, { api: 'bulk' }, { complete_segment: true });
    expect((await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(600)) })).code).toBe(0);
    const kept = invoiceRows(600).filter((_, i) => i % 2 === 0);
    const run = await runCli(['write', '--config', path], { stdin: jsonl(kept) });
    expect(run.code, run.stderr).toBe(0);
    expect([...byNumber(sf).keys()].sort()).toEqual(kept.map((row) => row.invoice_id).sort());
    const deleteJob = jobsCreated(sf).find((r) => r.body.operation === 'delete');
    expect(deleteJob).toBeDefined();
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ unchanged: 300, left_segment: 300 });
    expect(run.stderr).toContain('300 record(s) left the segment; archived 300, failed 0');
  });

  it('update by Id: ids Salesforce does not know are not_found, never created', async () => {
    const seeded = sf.seedRecords('Invoice__c', Array.from({ length: 3 }, (_, i) => ({ Invoice_Number__c: `U-${i}`, Region__c: 'EMEA', Notes__c: 'keep' })));
    const { path } = salesforceConfig(sf, { mode: 'update', match: { source: 'id', destination: 'Id' }, fields: [{ source: 'amount', destination: 'Amount__c' }] }, { api: 'bulk' });
    const rows = [...seeded.map((r, i) => ({ id: r.Id, amount: i + 10 })), { id: `${String(seeded[0].Id).slice(0, 3)}5g000000ZZZZ`, amount: 1 }];
    const run = await runCli(['write', '--config', path], { stdin: jsonl(rows) });
    expect(run.code, run.stderr).toBe(0);
    expect(sf.records('Invoice__c').map((r) => [r.Invoice_Number__c, r.Amount__c, r.Notes__c])).toEqual([['U-0', 10, 'keep'], ['U-1', 11, 'keep'], ['U-2', 12, 'keep']]);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 4, updated: 3, not_found: 1, created: 0 });
    expect(writeCalls(sf).filter((c) => c.startsWith('POST'))).toEqual(['POST /jobs/ingest']);
  });

  it('api rest never uses Bulk API, whatever the size; auto uses it only from the threshold', async () => {
    const rest = salesforceConfig(sf, { mode: 'upsert', ...BY_NUMBER }, { api: 'rest' });
    expect((await runCli(['write', '--config', rest.path], { stdin: jsonl(invoiceRows(2500)) })).code).toBe(0);
    expect(jobsCreated(sf)).toHaveLength(0);
    expect(collectionCalls(sf)).toHaveLength(13);

    sf.clearRequests();
    const auto = salesforceConfig(sf, { mode: 'upsert', ...BY_NUMBER }, { bulk_threshold: 1000 });
    expect((await runCli(['write', '--config', auto.path], { stdin: jsonl(invoiceRows(999, 5000)) })).code).toBe(0);
    expect(jobsCreated(sf)).toHaveLength(0);
    expect((await runCli(['write', '--config', auto.path], { stdin: jsonl(invoiceRows(1000, 7000)) })).code).toBe(0);
    expect(jobsCreated(sf)).toHaveLength(1);
    expect(sf.records('Invoice__c')).toHaveLength(2500 + 999 + 1000);
  });
});
