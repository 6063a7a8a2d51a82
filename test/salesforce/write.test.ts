// The real CLI writing into the Salesforce emulator through sObject Collections, in each mode;
// the emulator's records are the truth.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../emulators/salesforce/index.ts';
import { repoRoot } from '../support/airbyte-protocol.ts';
import { byType, runCli, summaryOf } from '../support/run-cli.ts';
import { BY_NUMBER, byNumber, FIELDS, invoiceRows, jsonl, salesforceConfig, startOrg, writeCalls } from './support.ts';

let sf: SalesforceEmulator;
beforeEach(async () => { sf = await startOrg(); });
afterEach(async () => { await sf.close(); });

const COLLECTIONS = '/composite/sobjects';
const UPSERT_CALL = `PATCH ${COLLECTIONS}/Invoice__c/Invoice_Number__c`;
const queries = (emulator: SalesforceEmulator) => emulator.requests.filter((r) => r.path.endsWith('/query')).map((r) => r.query.q);
const readJsonl = (path: string) => readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));

describe('Salesforce write through sObject Collections', () => {
  it('upserts 250 rows with exact typed values in ceil(250/200) calls', async () => {
    const { path } = salesforceConfig(sf, { mode: 'upsert', ...BY_NUMBER });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(250)) });
    expect(run.code, run.stderr).toBe(0);
    expect(writeCalls(sf)).toEqual([UPSERT_CALL, UPSERT_CALL]);
    const records = byNumber(sf);
    expect(records.size).toBe(250);
    expect(records.get('INV-00001')).toMatchObject({
      Customer_Email__c: 'buyer1@example.com',
      Amount__c: 1.25,
      Quantity__c: 1,
      Status__c: 'Paid',
      Tags__c: 'Priority;Recurring',
      Due_Date__c: '2026-03-01',
      Issued_At__c: '2026-02-01T08:30:00.000+0000',
      Is_Overdue__c: false,
      Region__c: 'AMER',
    });
    expect(records.get('INV-00002')).toMatchObject({ Status__c: 'Void', Tags__c: null, Is_Overdue__c: true, Quantity__c: 2 });
    // Numbers travel as JSON numbers, dates and timestamps as ISO text.
    const sent = sf.requests.find((r) => r.path.endsWith('/Invoice_Number__c'))!.body.records[1];
    expect(sent).toEqual({
      attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'INV-00001', Customer_Email__c: 'buyer1@example.com', Amount__c: 1.25, Quantity__c: 1,
      Status__c: 'Paid', Tags__c: 'Priority;Recurring', Due_Date__c: '2026-03-01', Issued_At__c: '2026-02-01T08:30:00.000Z', Is_Overdue__c: false, Region__c: 'AMER',
    });
    // Two upserts, and the one look for Bulk API jobs of an earlier run still processing (api: auto).
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 250, created: 250, rejected: 0, api_calls: 3 });
  });

  it('upsert updates the records that exist, creates the others, and sends nothing for unchanged rows', async () => {
    sf.seedRecords('Invoice__c', [{ Invoice_Number__c: 'INV-00000', Amount__c: 999, Region__c: 'EMEA', Notes__c: 'kept' }]);
    const { path } = salesforceConfig(sf, { mode: 'upsert', ...BY_NUMBER });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(3)) });
    expect(run.code, run.stderr).toBe(0);
    expect(sf.records('Invoice__c')).toHaveLength(3);
    expect(byNumber(sf).get('INV-00000')).toMatchObject({ Amount__c: 0.25, Notes__c: 'kept' });
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 3, created: 2, updated: 1 });

    sf.clearRequests();
    const rows = invoiceRows(3);
    rows[2].amount = 77;
    const again = await runCli(['write', '--config', path], { stdin: jsonl(rows) });
    expect(summaryOf(again.stderr)['Invoice__c']).toMatchObject({ received: 3, unchanged: 2, updated: 1 });
    const [changed] = sf.requests.filter((r) => r.path.endsWith('/Invoice_Number__c'));
    expect(changed.body.records).toEqual([{ attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'INV-00002', Amount__c: 77 }]);
  });

  it('keys change detection by org and object: another way of signing in to the same org sends nothing again', async () => {
    const { path } = salesforceConfig(sf, { mode: 'upsert', ...BY_NUMBER });
    expect((await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(5)) })).code).toBe(0);
    const config = JSON.parse(readFileSync(path, 'utf8'));
    config.crm.auth = { type: 'access_token', access_token: sf.issueAccessToken(), instance_url: sf.url };
    writeFileSync(path, JSON.stringify(config));
    sf.clearRequests();
    const again = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(5)) });
    expect(summaryOf(again.stderr)['Invoice__c']).toMatchObject({ received: 5, unchanged: 5 });
    expect(writeCalls(sf)).toEqual([]);
  });

  it('insert creates new keys and never modifies a record whose external id exists', async () => {
    sf.seedRecords('Invoice__c', [{ Invoice_Number__c: 'INV-00001', Amount__c: 7, Region__c: 'EMEA' }]);
    const { path } = salesforceConfig(sf, { mode: 'insert', ...BY_NUMBER });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(3)) });
    expect(run.code, run.stderr).toBe(0);
    const records = byNumber(sf);
    expect(records.size).toBe(3);
    expect(records.get('INV-00001')).toMatchObject({ Amount__c: 7, Customer_Email__c: null });
    expect(records.get('INV-00002')).toMatchObject({ Amount__c: 2.25 });
    expect(writeCalls(sf)).toEqual([`POST ${COLLECTIONS}`]);
    expect(queries(sf)).toEqual(["SELECT Id, Invoice_Number__c FROM Invoice__c WHERE Invoice_Number__c IN ('INV-00000','INV-00001','INV-00002')"]);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 3, created: 2, updated: 0, skipped: 1, rejected: 0 });
  });

  it('insert without a matching key creates every row', async () => {
    const { path } = salesforceConfig(sf, { mode: 'insert', match: { source: 'invoice_id' }, fields: [...FIELDS, { source: 'invoice_id', destination: 'Invoice_Number__c' }] });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(5)) });
    expect(run.code, run.stderr).toBe(0);
    expect([...byNumber(sf).keys()].sort()).toEqual(['INV-00000', 'INV-00001', 'INV-00002', 'INV-00003', 'INV-00004']);
    expect(queries(sf)).toEqual([]);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 5, created: 5 });
  });

  it('update by external id modifies matched records and never creates: unknown keys are not_found', async () => {
    sf.seedRecords('Invoice__c', [
      { Invoice_Number__c: 'INV-00000', Amount__c: 1, Region__c: 'EMEA' },
      { Invoice_Number__c: 'inv-00002', Amount__c: 1, Region__c: 'EMEA' },
    ]);
    const { path } = salesforceConfig(sf, { mode: 'update', ...BY_NUMBER });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(4)) });
    expect(run.code, run.stderr).toBe(0);
    expect(sf.records('Invoice__c')).toHaveLength(2);
    // External ids compare without regard to case, as Salesforce's do by default.
    expect(byNumber(sf).get('inv-00002')).toMatchObject({ Amount__c: 2.25, Status__c: 'Void', Invoice_Number__c: 'inv-00002' });
    expect(writeCalls(sf)).toEqual([`PATCH ${COLLECTIONS}`]);
    const update = sf.requests.find((r) => r.method === 'PATCH')!;
    expect(update.body.records.map((r: Record<string, unknown>) => Object.keys(r).includes('Invoice_Number__c'))).toEqual([false, false]);
    expect(update.body.records[0].Id).toBe(byNumber(sf).get('INV-00000')!.Id);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 4, created: 0, updated: 2, not_found: 2, rejected: 0 });
  });

  it('update by Id: unknown and deleted ids are not_found, a malformed id is rejected without a call', async () => {
    const [kept, deleted] = sf.seedRecords('Invoice__c', [{ Invoice_Number__c: 'A', Region__c: 'EMEA' }, { Invoice_Number__c: 'B', Region__c: 'EMEA' }]);
    const token = sf.issueAccessToken();
    await fetch(`${sf.url}/services/data/v62.0/composite/sobjects?ids=${deleted.Id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    const { path } = salesforceConfig(sf, { mode: 'update', match: { source: 'record_id', destination: 'Id' }, fields: [{ source: 'amount', destination: 'Amount__c' }] });
    const rows = [
      { record_id: kept.Id, amount: 42 },
      { record_id: `${String(kept.Id).slice(0, 3)}5g000000ZZZZ`, amount: 1 },
      { record_id: deleted.Id, amount: 1 },
      { record_id: 'not-an-id', amount: 1 },
    ];
    sf.clearRequests();
    const run = await runCli(['write', '--config', path], { stdin: jsonl(rows) });
    expect(run.code, run.stderr).toBe(0);
    expect(byNumber(sf).get('A')!.Amount__c).toBe(42);
    expect(run.stderr).toContain('rejected line 4 (key not-an-id): MALFORMED_ID [Id]: Record ID: id value of incorrect type: not-an-id');
    const update = sf.requests.find((r) => r.method === 'PATCH')!;
    expect(update.body.records.map((r: Record<string, unknown>) => r.Id)).toEqual(rows.slice(0, 3).map((r) => r.record_id));
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 4, updated: 1, not_found: 2, rejected: 1 });
  });

  it('update by an idLookup field that is not unique refuses keys held by several records', async () => {
    sf.seedRecords('Invoice__c', [
      { Name: 'Shared', Region__c: 'EMEA' }, { Name: 'Shared', Region__c: 'EMEA' }, { Name: 'Solo', Region__c: 'EMEA' },
    ]);
    const { path } = salesforceConfig(sf, { mode: 'update', match: { source: 'name', destination: 'Name' }, fields: [{ source: 'region', destination: 'Region__c' }] });
    const run = await runCli(['write', '--config', path], { stdin: jsonl([{ name: 'Shared', region: 'APAC' }, { name: 'Solo', region: 'APAC' }]) });
    expect(run.code, run.stderr).toBe(0);
    expect(sf.records('Invoice__c').map((r) => `${r.Name}:${r.Region__c}`).sort()).toEqual(['Shared:EMEA', 'Shared:EMEA', 'Solo:APAC']);
    expect(run.stderr).toMatch(/rejected line 1 \(key Shared\): DUPLICATE_EXTERNAL_ID \[Name\]: .*more than one record found for Name Shared/);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ updated: 1, rejected: 1 });
  });

  it('rejects only the rows Salesforce refuses, with its code and message; unconvertible rows cost no call', async () => {
    sf.seedRecords('Invoice__c', [{ Invoice_Number__c: 'TAKEN', Region__c: 'EMEA' }]);
    const { path, dir } = salesforceConfig(
      sf,
      { stream: 'invoices', mode: 'insert', match: { source: 'invoice_id' }, fields: [...FIELDS, { source: 'number', destination: 'Invoice_Number__c' }] },
      {},
      (dir) => ({ rejected_records_path: join(dir, 'rejected.jsonl') }),
    );
    const rows = invoiceRows(8).map((row) => ({ ...row, number: row.invoice_id }));
    rows[1].number = 'TAKEN';
    delete rows[2].region;
    rows[3].status = 'Refunded';
    rows[4].customer_email = 'not-an-email';
    rows[5].region = 'A region name that is far too long';
    rows[6].amount = 'twelve';
    const lines = [
      ...rows.map((data) => JSON.stringify({ type: 'RECORD', record: { stream: 'invoices', data, emitted_at: 0 } })),
      JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: 'invoices' }, stream_state: { at: 1 } } } }),
    ];
    const run = await runCli(['write', '--config', path], { stdin: lines });
    expect(run.code, run.stderr).toBe(0);
    expect([...byNumber(sf).keys()].sort()).toEqual(['INV-00000', 'INV-00007', 'TAKEN']);
    expect(byType(run.messages, 'STATE')[0].state.destinationStats).toEqual({ recordCount: 8, rejectedRecordCount: 6 });
    const rejected = readJsonl(join(dir, 'rejected.jsonl')).map(({ key, code, field, message }) => ({ key, code, field, message }));
    expect(rejected).toEqual(expect.arrayContaining([
      { key: 'INV-00003', code: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', field: 'Status__c', message: 'Status: bad value for restricted picklist field: Refunded' },
      { key: 'INV-00004', code: 'INVALID_EMAIL_ADDRESS', field: 'Customer_Email__c', message: 'Customer Email: invalid email address: not-an-email' },
      { key: 'INV-00005', code: 'STRING_TOO_LONG', field: 'Region__c', message: 'Region: data value too large: A region name that is far too long (max length=20)' },
      { key: 'INV-00006', code: 'INVALID_TYPE_ON_FIELD_IN_RECORD', field: 'Amount__c', message: 'Amount: value not of required type: twelve' },
      { key: 'INV-00001', code: 'DUPLICATE_VALUE', field: null, message: expect.stringMatching(/^duplicate value found: Invoice_Number__c duplicates value on record with id: a00/) },
      { key: 'INV-00002', code: 'REQUIRED_FIELD_MISSING', field: 'Region__c', message: 'Required fields are missing: [Region__c]' },
    ]));
    // Rows that could not convert never reached Salesforce.
    expect(writeCalls(sf)).toEqual([`POST ${COLLECTIONS}`]);
    const sent = sf.requests.find((r) => r.method === 'POST' && r.path.endsWith(COLLECTIONS))!.body.records.map((r: Record<string, unknown>) => r.Invoice_Number__c);
    expect(sent).toEqual(['INV-00000', 'TAKEN', 'INV-00002', 'INV-00007']);
  });

  it('looks up keys holding quotes and backslashes exactly, and a key cannot inject SOQL', async () => {
    const keys = ["O'Brien-1", 'back\\slash-2', 'quote"3', 'tab\there', "x') OR Name != ('"];
    sf.seedRecords('Invoice__c', [...keys.slice(0, 4), 'innocent'].map((key) => ({ Invoice_Number__c: key, Region__c: 'EMEA', Amount__c: 1 })));
    const { path } = salesforceConfig(sf, { mode: 'update', match: { source: 'invoice_id', destination: 'Invoice_Number__c' }, fields: [{ source: 'amount', destination: 'Amount__c' }] });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(keys.map((invoice_id) => ({ invoice_id, amount: 7 }))) });
    expect(run.code, run.stderr).toBe(0);
    const amounts = Object.fromEntries(sf.records('Invoice__c').map((r) => [r.Invoice_Number__c, r.Amount__c]));
    expect(amounts).toEqual({ "O'Brien-1": 7, 'back\\slash-2': 7, 'quote"3': 7, 'tab\there': 7, innocent: 1 });
    expect(queries(sf)).toEqual([
      "SELECT Id, Invoice_Number__c FROM Invoice__c WHERE Invoice_Number__c IN ('O\\'Brien-1','back\\\\slash-2','quote\\\"3','tab\\there','x\\') OR Name != (\\'')",
    ]);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 5, updated: 4, not_found: 1, rejected: 0 });
  });

  it('splits key lookups into queries that each stay under the URI limit', async () => {
    const keys = Array.from({ length: 1500 }, (_, i) => `Kunde Ä/${i} & Söhne ${'x'.repeat(15)}`);
    sf.seedRecords('Invoice__c', keys.filter((_, i) => i % 3 === 0).map((key) => ({ Invoice_Number__c: key, Region__c: 'EMEA' })));
    const { path } = salesforceConfig(sf, { mode: 'update', match: { source: 'key', destination: 'Invoice_Number__c' }, fields: [{ source: 'amount', destination: 'Amount__c' }] }, { bulk_threshold: 5000 });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(keys.map((key) => ({ key, amount: 3 }))) });
    expect(run.code, run.stderr).toBe(0);
    const lookups = sf.requests.filter((r) => r.path.endsWith('/query'));
    expect(lookups.length).toBeGreaterThan(5);
    for (const lookup of lookups) expect(lookup.status).toBe(200);
    expect(sf.records('Invoice__c').every((r) => r.Amount__c === 3)).toBe(true);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 1500, updated: 500, not_found: 1000 });
  });

  it('takes object, mode and key from an Airbyte catalog (records already named as fields)', async () => {
    const { path, dir } = salesforceConfig(sf, { stream: 'other', mode: 'insert', match: { source: 'x' } });
    const catalog = join(dir, 'catalog.json');
    writeFileSync(catalog, JSON.stringify({
      streams: [{
        stream: { name: 'invoices', json_schema: {}, supported_sync_modes: ['incremental'] },
        sync_mode: 'incremental', destination_sync_mode: 'append_dedup', destination_object_name: 'Invoice__c', primary_key: [['Invoice_Number__c']],
      }],
    }));
    const records = [
      { Invoice_Number__c: 'AB-1', Amount__c: 10, Region__c: 'EMEA', Unknown_Column: 'x' },
      { Invoice_Number__c: 'AB-2', Amount__c: 20, Region__c: 'APAC' },
    ].map((data) => JSON.stringify({ type: 'RECORD', record: { stream: 'invoices', data, emitted_at: 0 } }));
    const run = await runCli(['write', '--config', path, '--catalog', catalog], { stdin: records });
    expect(run.code, run.stderr).toBe(0);
    expect(byNumber(sf).get('AB-2')).toMatchObject({ Amount__c: 20, Region__c: 'APAC' });
    expect(writeCalls(sf)).toEqual([UPSERT_CALL]);
    expect(run.stderr).toContain('columns with no writable field of Invoice__c were not sent: Unknown_Column');
  });
});

describe('Salesforce rows that left the segment', () => {
  const complete = { complete_segment: true };

  it('archive deletes the records of keys absent from a complete run', async () => {
    const { path } = salesforceConfig(sf, { mode: 'upsert', ...BY_NUMBER, on_removal: 'archive' }, {}, complete);
    expect((await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(3)) })).code).toBe(0);
    const gone = byNumber(sf).get('INV-00001')!.Id;
    const run = await runCli(['write', '--config', path], { stdin: jsonl([invoiceRows(3)[0], invoiceRows(3)[2]]) });
    expect(run.code, run.stderr).toBe(0);
    expect([...byNumber(sf).keys()].sort()).toEqual(['INV-00000', 'INV-00002']);
    expect(sf.requests.some((r) => r.method === 'DELETE' && r.query.ids === gone)).toBe(true);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ unchanged: 2, left_segment: 1 });
  });

  it('clear empties the mapped fields of those records and keeps their key', async () => {
    const { path } = salesforceConfig(sf, { mode: 'upsert', ...BY_NUMBER, on_removal: 'clear' }, {}, complete);
    expect((await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(2)) })).code).toBe(0);
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(1)) });
    expect(run.code, run.stderr).toBe(0);
    // Region__c is required: Salesforce cannot empty it, so it keeps its value.
    expect(byNumber(sf).get('INV-00001')).toMatchObject({
      Invoice_Number__c: 'INV-00001', Amount__c: null, Status__c: null, Tags__c: null, Is_Overdue__c: false, Customer_Email__c: null, Region__c: 'AMER',
    });
    expect(run.stderr).toContain('1 record(s) left the segment; cleared 1, failed 0');
  });
});

describe('the Salesforce example', () => {
  it('syncs examples/salesforce/invoices.jsonl with examples/salesforce/config.json', async () => {
    const example = (name: string) => join(repoRoot, 'examples/salesforce', name);
    const config = JSON.parse(readFileSync(example('config.json'), 'utf8'));
    await sf.close();
    sf = await startOrg({ clients: [{ clientId: config.crm.auth.client_id, clientSecret: config.crm.auth.client_secret }] });
    const { path } = salesforceConfig(sf, config.objects[0], { auth: config.crm.auth, api: config.crm.api });
    const run = await runCli(['write', '--config', path], { stdin: readFileSync(example('invoices.jsonl'), 'utf8') });
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 10, created: 8, rejected: 2 });
    expect(byNumber(sf).get('INV-1008')).toMatchObject({
      Amount__c: 1200, Quantity__c: 5, Is_Overdue__c: false, Issued_At__c: '2026-01-09T07:08:00.000+0000', Notes__c: 'Paid by "wire", see ticket 12\nsecond line',
    });
    expect(byNumber(sf).get('INV-1006')).toMatchObject({ Status__c: 'Void', Tags__c: null, Is_Overdue__c: false });
  });
});
