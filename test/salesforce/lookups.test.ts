// fields[].lookup: a lookup field of Invoice__c set through its parent Account's external id, in
// sObject Collections and in Bulk API 2.0 alike, with no query for the parent's id; change
// detection on the parent's key; a missing parent rejecting only its row; check naming a lookup
// that cannot work.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CustomObjectDef, SalesforceEmulator } from '../../emulators/salesforce/index.ts';
import { byType, runCli, summaryOf } from '../support/run-cli.ts';
import { invoiceObject, jsonl, salesforceConfig, startOrg, writeCalls } from './support.ts';
import { ACCOUNT_FIELDS } from '../emulators/salesforce/fixtures.ts';

const INVOICE: CustomObjectDef = {
  ...invoiceObject,
  fields: [
    ...invoiceObject.fields,
    { name: 'Account__c', label: 'Account', type: 'reference', referenceTo: ['Account'] },
    // Real orgs have polymorphic lookups only among standard fields (OwnerId, WhoId); the emulator
    // allows one here so the syntax polymorphic fields need is exercised.
    { name: 'Payer__c', label: 'Payer', type: 'reference', referenceTo: ['Account', 'Contact'] },
  ],
};

const BY_ACCOUNT = { source: 'account_number', destination: 'Account__c', lookup: { object: 'Account', match: 'Account_Number__c' } };
const UPSERT = {
  mode: 'upsert',
  match: { source: 'invoice_id', destination: 'Invoice_Number__c' },
  fields: [{ source: 'region', destination: 'Region__c' }, BY_ACCOUNT],
};

let sf: SalesforceEmulator;
let accountIds: Record<string, string>;

beforeEach(async () => {
  sf = await startOrg({ objects: [ACCOUNT_FIELDS, INVOICE], bulkProcessingDelayMs: 5 });
  const accounts = sf.seedRecords('Account', ['A-1', 'A-2', 'A-3'].map((number) => ({ Name: `Account ${number}`, Account_Number__c: number })));
  accountIds = Object.fromEntries(accounts.map((a) => [a.Account_Number__c as string, a.Id as string]));
});
afterEach(async () => { await sf.close(); });

const invoices = () => new Map(sf.records('Invoice__c').map((r) => [r.Invoice_Number__c as string, r]));
const accountOf = (number: string) => invoices().get(number)?.Account__c;
const queries = () => sf.requests.filter((r) => r.path.endsWith('/query') || r.path.includes('/query?'));
const readJsonl = (path: string) => readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
const rows = (...pairs: [string, string | null][]) => jsonl(pairs.map(([invoice_id, account_number]) => ({ invoice_id, region: 'EMEA', account_number })));
const uploads = () => sf.requests.filter((r) => r.method === 'PUT' && r.path.includes('/jobs/ingest/')).map((r) => String(r.body));
const collectionRecords = () => sf.requests.filter((r) => r.path.includes('/composite/sobjects') && r.method !== 'GET')
  .flatMap((r) => (r.body as { records: Record<string, unknown>[] }).records);

async function write(path: string, stdin: string | string[]) {
  const run = await runCli(['write', '--config', path], { stdin });
  expect(run.code, run.stderr).toBe(0);
  return { run, counts: summaryOf(run.stderr)['Invoice__c'] };
}

describe.each([
  { api: 'rest', via: 'sObject Collections' },
  { api: 'bulk', via: 'Bulk API 2.0' },
])('a lookup set through the parent\'s external id, via $via', ({ api }) => {
  it('links each invoice to its account with no query, and a rerun sends nothing', async () => {
    const { path } = salesforceConfig(sf, UPSERT, { api });
    const { counts } = await write(path, rows(['INV-1', 'A-1'], ['INV-2', 'A-2'], ['INV-3', 'A-1']));
    expect(counts).toMatchObject({ received: 3, created: 3, rejected: 0 });
    expect([accountOf('INV-1'), accountOf('INV-2'), accountOf('INV-3')]).toEqual([accountIds['A-1'], accountIds['A-2'], accountIds['A-1']]);
    expect(queries()).toHaveLength(0);
    if (api === 'rest') {
      expect(collectionRecords()[0]).toEqual({ attributes: { type: 'Invoice__c' }, Region__c: 'EMEA', Account__r: { Account_Number__c: 'A-1' }, Invoice_Number__c: 'INV-1' });
    } else {
      expect(uploads()[0].split('\n')[0]).toBe('Region__c,Account__r.Account_Number__c,Invoice_Number__c');
    }

    sf.clearRequests();
    const rerun = await write(path, rows(['INV-1', 'A-1'], ['INV-2', 'A-2'], ['INV-3', 'A-1']));
    expect(rerun.counts).toMatchObject({ received: 3, unchanged: 3 });
    expect(writeCalls(sf)).toEqual([]);
  });

  it('moves the lookup when the parent key changes, sending only that row', async () => {
    const { path } = salesforceConfig(sf, UPSERT, { api });
    await write(path, rows(['INV-1', 'A-1'], ['INV-2', 'A-2']));
    sf.clearRequests();
    const { counts } = await write(path, rows(['INV-1', 'A-3'], ['INV-2', 'A-2']));
    expect(counts).toMatchObject({ updated: 1, unchanged: 1 });
    expect([accountOf('INV-1'), accountOf('INV-2')]).toEqual([accountIds['A-3'], accountIds['A-2']]);
    if (api === 'rest') expect(collectionRecords()).toEqual([{ attributes: { type: 'Invoice__c' }, Account__r: { Account_Number__c: 'A-3' }, Invoice_Number__c: 'INV-1' }]);
    else expect(uploads()).toEqual(['Account__r.Account_Number__c,Invoice_Number__c\nA-3,INV-1\n']);
  });

  it('rejects exactly the row whose parent does not exist, with Salesforce\'s code and the key; the others land', async () => {
    const { path, dir } = salesforceConfig(sf, UPSERT, { api }, (d) => ({ rejected_records_path: join(d, 'rejected.jsonl') }));
    const { counts } = await write(path, rows(['INV-1', 'A-1'], ['INV-2', 'A-404'], ['INV-3', 'A-3']));
    expect(counts).toMatchObject({ received: 3, created: 2, rejected: 1 });
    expect([...invoices().keys()].sort()).toEqual(['INV-1', 'INV-3']);
    expect(accountOf('INV-3')).toBe(accountIds['A-3']);
    const rejected = readJsonl(join(dir, 'rejected.jsonl')).map(({ key, code, field, message }) => ({ key, code, field, message }));
    expect(rejected).toEqual([{
      key: 'INV-2', code: 'INVALID_FIELD', field: 'Account__c',
      message: 'Foreign key external ID: A-404 not found for field Account_Number__c in entity Account',
    }]);
    // The rejected row is sent again next run: once its parent exists, it lands.
    sf.seedRecords('Account', [{ Name: 'Late', Account_Number__c: 'A-404' }]);
    const rerun = await write(path, rows(['INV-1', 'A-1'], ['INV-2', 'A-404'], ['INV-3', 'A-3']));
    expect(rerun.counts).toMatchObject({ created: 1, unchanged: 2 });
    expect(accountOf('INV-2')).toBeDefined();
  });

  it('clears the lookup when the parent key is empty, by sending the field itself empty', async () => {
    const { path } = salesforceConfig(sf, UPSERT, { api });
    await write(path, rows(['INV-1', 'A-1'], ['INV-2', 'A-2'], ['INV-3', 'A-1']));
    sf.clearRequests();
    const { counts } = await write(path, rows(['INV-1', null], ['INV-2', 'A-1'], ['INV-3', '']));
    expect(counts).toMatchObject({ updated: 3, rejected: 0 });
    expect([accountOf('INV-1'), accountOf('INV-2'), accountOf('INV-3')]).toEqual([null, accountIds['A-1'], null]);
    if (api === 'rest') {
      expect(collectionRecords().map((r) => ('Account__c' in r ? r.Account__c : r.Account__r))).toEqual([null, { Account_Number__c: 'A-1' }, null]);
    } else {
      // One header cannot set Account__c both ways: the rows clearing it go as a job of their own.
      expect(uploads().sort()).toEqual(['Account__c,Invoice_Number__c\n#N/A,INV-1\n#N/A,INV-3\n', 'Account__r.Account_Number__c,Invoice_Number__c\nA-1,INV-2\n']);
    }
  });

  it('sets the lookup in update mode by Id too', async () => {
    const seeded = sf.seedRecords('Invoice__c', [{ Invoice_Number__c: 'U-1', Region__c: 'EMEA' }, { Invoice_Number__c: 'U-2', Region__c: 'EMEA' }]);
    const { path } = salesforceConfig(sf, { mode: 'update', match: { source: 'id', destination: 'Id' }, fields: [BY_ACCOUNT] }, { api });
    const { counts } = await write(path, jsonl([{ id: seeded[0].Id, account_number: 'A-2' }, { id: seeded[1].Id, account_number: 'A-3' }]));
    expect(counts).toMatchObject({ updated: 2 });
    expect([accountOf('U-1'), accountOf('U-2')]).toEqual([accountIds['A-2'], accountIds['A-3']]);
    expect(queries()).toHaveLength(0);
  });

  it('links a polymorphic field to the object the lookup names', async () => {
    const [contact] = sf.seedRecords('Contact', [{ LastName: 'Payer', Email: 'payer@example.com' }]);
    const { path } = salesforceConfig(sf, {
      ...UPSERT, fields: [{ source: 'region', destination: 'Region__c' }, { source: 'payer', destination: 'Payer__c', lookup: { object: 'Contact', match: 'Email' } }],
    }, { api });
    await write(path, jsonl([{ invoice_id: 'INV-1', region: 'EMEA', payer: 'payer@example.com' }]));
    expect(invoices().get('INV-1')!.Payer__c).toBe(contact.Id);
    if (api === 'rest') expect(collectionRecords()[0].Payer__r).toEqual({ attributes: { type: 'Contact' }, Email: 'payer@example.com' });
    else expect(uploads()[0].split('\n')[0]).toBe('Region__c,Contact:Payer__r.Email,Invoice_Number__c');
  });
});

describe('a lookup with change_detection: crm', () => {
  it('compares the parent key Salesforce holds: a rerun sends nothing, a changed key sends that row', async () => {
    const { path } = salesforceConfig(sf, UPSERT, { api: 'rest' }, { change_detection: 'crm' });
    await write(path, rows(['INV-1', 'A-1'], ['INV-2', 'A-2']));
    sf.clearRequests();
    const rerun = await write(path, rows(['INV-1', 'A-1'], ['INV-2', 'A-3']));
    expect(rerun.counts).toMatchObject({ unchanged: 1, updated: 1 });
    expect(collectionRecords()).toEqual([{ attributes: { type: 'Invoice__c' }, Account__r: { Account_Number__c: 'A-3' }, Invoice_Number__c: 'INV-2' }]);
    expect(accountOf('INV-2')).toBe(accountIds['A-3']);
  });
});

describe('check of a lookup', () => {
  async function check(fields: Record<string, unknown>[]) {
    const { path } = salesforceConfig(sf, { ...UPSERT, fields });
    const run = await runCli(['check', '--config', path]);
    expect(run.code, run.stderr).toBe(0);
    return byType(run.messages, 'CONNECTION_STATUS')[0].connectionStatus as { status: string; message?: string };
  }
  const lookup = (destination: string, object: string, match: string) => ({ source: 'a', destination, lookup: { object, match } });

  it('succeeds for a reference field, its parent object and an external-id or idLookup key of it', async () => {
    expect(await check([BY_ACCOUNT, lookup('Payer__c', 'Contact', 'Email')])).toEqual({ status: 'SUCCEEDED' });
  });

  it('names a field that is not a reference', async () => {
    expect(await check([lookup('Amount__c', 'Account', 'Account_Number__c')])).toEqual({
      status: 'FAILED', message: 'objects[0]: fields[] "Amount__c" has a lookup, but it is a currency field, not a lookup or master-detail field of Invoice__c (its writable ones: Account__c, Payer__c, OwnerId)',
    });
  });

  it('names an object the field does not refer to, suggesting the one it does', async () => {
    expect(await check([lookup('Account__c', 'Acount', 'Account_Number__c')])).toEqual({
      status: 'FAILED', message: 'objects[0]: lookup.object "Acount" of Account__c: Account__c refers to Account, not Acount (did you mean "Account"?)',
    });
    expect((await check([lookup('Account__c', 'Contact', 'Email')])).message).toBe('objects[0]: lookup.object "Contact" of Account__c: Account__c refers to Account, not Contact');
  });

  it('names a match field that is not an external id or idLookup of the parent, listing those that are', async () => {
    const status = await check([lookup('Account__c', 'Account', 'Legacy_Code__c')]);
    expect(status.status).toBe('FAILED');
    expect(status.message).toMatch(/^objects\[0\]: lookup\.match "Legacy_Code__c" of Account__c is neither an external-id nor an idLookup field of Account, so Salesforce cannot find the parent by it; use one \(.*Account_Number__c.*\)/);
    expect((await check([lookup('Account__c', 'Account', 'Account_Numbr__c')])).message)
      .toBe('objects[0]: lookup.match "Account_Numbr__c" of Account__c does not exist on Account (did you mean "Account_Number__c"?)');
  });
});
