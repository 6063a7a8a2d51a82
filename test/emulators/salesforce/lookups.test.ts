// Lookups and master-detail fields in the Salesforce emulator: reference fields in describe, fields
// added to a standard object (Account's external id), setting a lookup through the parent's
// external id in sObject Collections and in Bulk API 2.0 CSV (polymorphic ones naming the parent's
// type), the foreign-key error for a parent that does not exist, and what deleting a parent does.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type CustomObjectDef, type SalesforceEmulator } from '../../../emulators/salesforce/index.ts';
import { ACCOUNT_FIELDS, API, call, CLIENT, runBulkJob, tokenConnection } from './fixtures.ts';

const INVOICE: CustomObjectDef = {
  name: 'Invoice__c',
  fields: [
    { name: 'Invoice_Number__c', type: 'string', length: 40, externalId: true, unique: true },
    { name: 'Account__c', label: 'Account', type: 'reference', referenceTo: ['Account'] },
    // Custom lookups are never polymorphic in a real org (only standard ones such as OwnerId or
    // WhoId are); this one exists to exercise the syntax polymorphic fields need.
    { name: 'Payer__c', label: 'Payer', type: 'reference', referenceTo: ['Account', 'Contact'] },
  ],
};

const LINE: CustomObjectDef = {
  name: 'Invoice_Line__c',
  fields: [
    { name: 'Line_Key__c', type: 'string', length: 40, externalId: true, unique: true },
    { name: 'Invoice__c', label: 'Invoice', type: 'reference', referenceTo: ['Invoice__c'], masterDetail: true },
  ],
};

const NOT_FOUND = (key: string) => ({ statusCode: 'INVALID_FIELD', message: `Foreign key external ID: ${key} not found for field Account_Number__c in entity Account`, fields: [] });

let sf: SalesforceEmulator;
let accountId: string;

beforeEach(async () => {
  sf = await startSalesforceEmulator({ clients: [CLIENT], objects: [ACCOUNT_FIELDS, INVOICE, LINE], bulkProcessingDelayMs: 5 });
  [{ Id: accountId }] = sf.seedRecords('Account', [{ Name: 'Acme', Account_Number__c: 'A-1', Legacy_Code__c: 'L-1' }]) as { Id: string }[];
});
afterEach(() => sf.close());

const invoices = () => sf.records('Invoice__c');
const invoiceNumbered = (number: string) => invoices().find((r) => r.Invoice_Number__c === number);

function create(records: Record<string, unknown>[], allOrNone = false) {
  return call(sf, 'POST', `${API}/composite/sobjects`, { allOrNone, records });
}

describe('describe', () => {
  it('shows lookups, polymorphic and master-detail fields with their relationship attributes', async () => {
    const conn = tokenConnection(sf);
    const fields = Object.fromEntries((await conn.sobject('Invoice__c').describe()).fields.map((f) => [f.name, f]));
    expect(fields.Account__c).toMatchObject({
      type: 'reference', referenceTo: ['Account'], relationshipName: 'Account__r', cascadeDelete: false,
      nillable: true, createable: true, updateable: true, polymorphicForeignKey: false, custom: true,
    });
    expect(fields.Payer__c).toMatchObject({ referenceTo: ['Account', 'Contact'], relationshipName: 'Payer__r', polymorphicForeignKey: true });
    expect(fields.OwnerId).toMatchObject({ type: 'reference', relationshipName: 'Owner' });
    const line = Object.fromEntries((await conn.sobject('Invoice_Line__c').describe()).fields.map((f) => [f.name, f]));
    expect(line.Invoice__c).toMatchObject({
      type: 'reference', referenceTo: ['Invoice__c'], relationshipName: 'Invoice__r', cascadeDelete: true,
      nillable: false, defaultedOnCreate: false, createable: true, updateable: false, relationshipOrder: 0, writeRequiresMasterRead: true,
    });
  });

  it('adds custom fields to Account, and lists the lookups pointing at it as child relationships', async () => {
    const account = await tokenConnection(sf).sobject('Account').describe();
    const fields = Object.fromEntries(account.fields.map((f) => [f.name, f]));
    expect(fields.Account_Number__c).toMatchObject({ externalId: true, idLookup: true, unique: true, custom: true });
    expect(fields.Name).toMatchObject({ idLookup: true, externalId: false, custom: false });
    expect(account.childRelationships).toEqual(expect.arrayContaining([
      expect.objectContaining({ childSObject: 'Invoice__c', field: 'Account__c', cascadeDelete: false }),
      expect.objectContaining({ childSObject: 'Contact', field: 'AccountId' }),
    ]));
  });

  it('refuses definitions whose references point nowhere, and standard-object extensions that are not custom fields', async () => {
    const dangling: CustomObjectDef = { name: 'Bad__c', fields: [{ name: 'Ghost__c', type: 'reference', referenceTo: ['Ghost__c'] }] };
    await expect(startSalesforceEmulator({ objects: [dangling] })).rejects.toThrow(/Ghost__c/);
    await expect(startSalesforceEmulator({ objects: [{ name: 'Account', fields: [{ name: 'Rating', type: 'string' }] }] })).rejects.toThrow(/custom fields/);
  });
});

describe('sObject Collections', () => {
  it('sets the lookup from the parent external id; a missing parent fails only its record, with the foreign-key error', async () => {
    const reply = await create([
      { attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'I-1', Account__r: { Account_Number__c: 'A-1' } },
      { attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'I-2', Account__r: { attributes: { type: 'Account' }, Account_Number__c: 'A-404' } },
      // Standard idLookup fields (Account.Name) identify a parent too.
      { attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'I-3', Account__r: { Name: 'Acme' } },
    ]);
    expect(reply.status).toBe(200);
    expect(reply.json[0]).toMatchObject({ success: true });
    expect(reply.json[1]).toEqual({ success: false, errors: [NOT_FOUND('A-404')] });
    expect(reply.json[2]).toMatchObject({ success: true });
    const rows = (await tokenConnection(sf).query<{ Invoice_Number__c: string; Account__c: string }>('SELECT Invoice_Number__c, Account__c FROM Invoice__c')).records;
    expect(rows.map((r) => [r.Invoice_Number__c, r.Account__c]).sort()).toEqual([['I-1', accountId], ['I-3', accountId]]);
  });

  it('under allOrNone a missing parent rolls the whole request back', async () => {
    const reply = await create([
      { attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'I-1', Account__r: { Account_Number__c: 'A-1' } },
      { attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'I-2', Account__r: { Account_Number__c: 'A-404' } },
    ], true);
    expect(reply.json.map((r: { errors: { statusCode: string }[] }) => r.errors[0]?.statusCode)).toEqual(['ALL_OR_NONE_OPERATION_ROLLED_BACK', 'INVALID_FIELD']);
    expect(invoices()).toEqual([]);
  });

  it('upserts by external id with the lookup set (and moved) through the relationship', async () => {
    const [{ Id: otherId }] = sf.seedRecords('Account', [{ Name: 'Other', Account_Number__c: 'A-2' }]) as { Id: string }[];
    const upsert = (account: string) => call(sf, 'PATCH', `${API}/composite/sobjects/Invoice__c/Invoice_Number__c`, {
      allOrNone: false, records: [{ attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'I-9', Account__r: { Account_Number__c: account } }],
    });
    expect((await upsert('A-1')).json[0]).toMatchObject({ success: true, created: true });
    expect((await upsert('a-2')).json[0]).toMatchObject({ success: true, created: false });
    expect(invoiceNumbered('I-9')!.Account__c).toBe(otherId);
    expect((await upsert('A-404')).json[0]).toEqual({ success: false, created: false, errors: [NOT_FOUND('A-404')] });
    expect(invoiceNumbered('I-9')!.Account__c).toBe(otherId);
  });

  it('a polymorphic lookup needs the parent type in attributes', async () => {
    const [{ Id: contactId }] = sf.seedRecords('Contact', [{ LastName: 'Lee', Email: 'lee@example.com' }]) as { Id: string }[];
    const untyped = await create([{ attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'P-0', Payer__r: { Account_Number__c: 'A-1' } }]);
    expect(untyped.status).toBe(400);
    expect(untyped.json[0]).toMatchObject({ errorCode: 'INVALID_FIELD', message: expect.stringContaining('Payer__r') });
    const wrongType = await create([{ attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'P-0', Payer__r: { attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'x' } }]);
    expect(wrongType.status).toBe(400);
    const typed = await create([
      { attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'P-1', Payer__r: { attributes: { type: 'Contact' }, Email: 'LEE@example.com' } },
      { attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'P-2', Payer__r: { attributes: { type: 'Account' }, Account_Number__c: 'A-1' } },
    ]);
    expect(typed.json.map((r: { success: boolean }) => r.success)).toEqual([true, true]);
    expect([invoiceNumbered('P-1')!.Payer__c, invoiceNumbered('P-2')!.Payer__c]).toEqual([contactId, accountId]);
  });

  it('refuses the whole request for a key that is not an external id or idLookup field, an unknown one, or a non-object value', async () => {
    const notIndexed = await create([{ attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'I-1', Account__r: { Legacy_Code__c: 'L-1' } }]);
    expect(notIndexed).toMatchObject({ status: 400, json: [{ errorCode: 'INVALID_FIELD', message: 'Legacy_Code__c is not an External ID or indexed field for Account' }] });
    const unknown = await create([{ attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'I-1', Account__r: { Nope__c: 'x' } }]);
    expect(unknown).toMatchObject({ status: 400, json: [{ errorCode: 'INVALID_FIELD', message: "No such column 'Nope__c' on sobject of type Account" }] });
    const flat = await create([{ attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'I-1', Account__r: 'A-1' }]);
    expect(flat).toMatchObject({ status: 400, json: [{ errorCode: 'INVALID_FIELD' }] });
    const both = await create([{ attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'I-1', Account__c: accountId, Account__r: { Account_Number__c: 'A-1' } }]);
    expect(both.status).toBe(400);
    expect(invoices()).toEqual([]);
  });
});

describe('Bulk API 2.0 CSV', () => {
  const insert = (csv: string, object = 'Invoice__c') => runBulkJob(sf, { object, operation: 'insert', lineEnding: 'LF' }, csv);

  it('sets the lookup from a RelationshipName.Key column; a missing parent fails its row with the foreign-key error', async () => {
    const { info, failed } = await insert('Invoice_Number__c,Account__r.Account_Number__c\nB-1,A-1\nB-2,A-404\nB-3,\n');
    expect(info).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 3, numberRecordsFailed: 1 });
    expect(failed.split('\n')[1]).toBe('"","INVALID_FIELD:Foreign key external ID: A-404 not found for field Account_Number__c in entity Account: --","B-2","A-404"');
    expect(invoiceNumbered('B-1')!.Account__c).toBe(accountId);
    expect(invoiceNumbered('B-2')).toBeUndefined();
    expect(invoiceNumbered('B-3')!.Account__c).toBeNull();
  });

  it('names the parent type of a polymorphic lookup as Type:Relationship.Key', async () => {
    const [{ Id: contactId }] = sf.seedRecords('Contact', [{ LastName: 'Lee', Email: 'lee@example.com' }]) as { Id: string }[];
    const { info } = await insert('Invoice_Number__c,Contact:Payer__r.Email\nB-4,lee@example.com\n');
    expect(info.numberRecordsFailed).toBe(0);
    expect(invoiceNumbered('B-4')!.Payer__c).toBe(contactId);
  });

  it('fails the job for a relationship column it cannot use', async () => {
    for (const header of ['Account__r.Legacy_Code__c', 'Payer__r.Email', 'Nothing__r.Name', 'Account__c,Account__r.Account_Number__c']) {
      const cells = header.split(',').map(() => 'A-1').join(',');
      const { info } = await insert(`Invoice_Number__c,${header}\nB-9,${cells}\n`);
      expect(info, header).toMatchObject({ state: 'Failed', errorMessage: expect.stringMatching(/^InvalidBatch : /) });
    }
    expect(invoiceNumbered('B-9')).toBeUndefined();
  });
});

describe('SOQL', () => {
  it('reads parent fields through a lookup (Account__r.Account_Number__c), null when the lookup is empty', async () => {
    const [{ Id: contactId }] = sf.seedRecords('Contact', [{ LastName: 'Lee', Email: 'lee@example.com' }]) as { Id: string }[];
    sf.seedRecords('Invoice__c', [
      { Invoice_Number__c: 'Q-1', Account__c: accountId, Payer__c: contactId },
      { Invoice_Number__c: 'Q-2' },
    ]);
    const soql = 'SELECT Invoice_Number__c, Account__r.Account_Number__c, Account__r.Name, Payer__r.Name FROM Invoice__c ORDER BY Invoice_Number__c';
    const { records } = await tokenConnection(sf).query<Record<string, unknown>>(soql);
    expect(records[0]).toMatchObject({
      Invoice_Number__c: 'Q-1',
      Account__r: { attributes: { type: 'Account' }, Account_Number__c: 'A-1', Name: 'Acme' },
      Payer__r: { attributes: { type: 'Contact' } },
    });
    expect(records[1]).toMatchObject({ Invoice_Number__c: 'Q-2', Account__r: null, Payer__r: null });
  });

  it('refuses a relationship the object does not have, and a field the parent does not have', async () => {
    const unknown = await call(sf, 'GET', `${API}/query?q=${encodeURIComponent('SELECT Nope__r.Name FROM Invoice__c')}`);
    expect(unknown).toMatchObject({ status: 400, json: [{ errorCode: 'INVALID_FIELD', message: expect.stringContaining("Didn't understand relationship 'Nope__r' in field path.") }] });
    const missing = await call(sf, 'GET', `${API}/query?q=${encodeURIComponent('SELECT Account__r.Nope__c FROM Invoice__c')}`);
    expect(missing).toMatchObject({ status: 400, json: [{ errorCode: 'INVALID_FIELD', message: expect.stringContaining("No such column 'Nope__c' on entity 'Account'") }] });
  });
});

describe('master-detail and deleting parents', () => {
  it('requires the master on create, sets it through the relationship, and deletes the detail with its master', async () => {
    sf.seedRecords('Invoice__c', [{ Invoice_Number__c: 'M-1', Account__c: accountId }]);
    const masterless = await create([{ attributes: { type: 'Invoice_Line__c' }, Line_Key__c: 'L-0' }]);
    expect(masterless.json[0].errors[0]).toMatchObject({ statusCode: 'REQUIRED_FIELD_MISSING', fields: ['Invoice__c'] });
    const line = await create([{ attributes: { type: 'Invoice_Line__c' }, Line_Key__c: 'L-1', Invoice__r: { Invoice_Number__c: 'M-1' } }]);
    expect(line.json[0]).toMatchObject({ success: true });
    const reparent = await call(sf, 'PATCH', `${API}/composite/sobjects`, { allOrNone: false, records: [{ attributes: { type: 'Invoice_Line__c' }, Id: line.json[0].id, Invoice__c: invoiceNumbered('M-1')!.Id }] });
    expect(reparent.json[0].errors[0]).toMatchObject({ statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: ['Invoice__c'] });
    await call(sf, 'DELETE', `${API}/composite/sobjects?ids=${accountId}`);
    expect(invoiceNumbered('M-1')!.Account__c).toBeNull();
    await call(sf, 'DELETE', `${API}/composite/sobjects?ids=${invoiceNumbered('M-1')!.Id}`);
    expect(sf.records('Invoice_Line__c')).toEqual([]);
  });
});
