// sObject Collections strictness: what the real API refuses, the emulator refuses, in the same shapes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../../emulators/salesforce/index.ts';
import { API, call, invoice, startOrg } from './fixtures.ts';

const COLLECTION = `${API}/composite/sobjects`;

function records(...rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) => ({ attributes: { type: 'Invoice__c' }, ...row }));
}

describe('sObject Collections', () => {
  let sf: SalesforceEmulator;
  let seq = 0;
  const next = (extra: Record<string, unknown> = {}) => invoice(++seq, extra);

  beforeAll(async () => {
    sf = await startOrg();
  });
  beforeEach(() => sf.clearRequests());
  afterAll(() => sf.close());

  const create = (rows: Record<string, unknown>[], allOrNone = false) => call(sf, 'POST', COLLECTION, { allOrNone, records: records(...rows) });
  const update = (rows: Record<string, unknown>[], allOrNone = false) => call(sf, 'PATCH', COLLECTION, { allOrNone, records: records(...rows) });
  const stored = (number: unknown) => sf.records('Invoice__c').find((r) => r.Invoice_Number__c === number);

  it('refuses more than 200 records in one call, writing nothing', async () => {
    const before = sf.records('Invoice__c').length;
    const response = await create(Array.from({ length: 201 }, () => next()));
    expect(response.status).toBe(400);
    expect(response.json).toEqual([{ message: 'record limit reached. cannot submit more than 200 records into this call', errorCode: 'EXCEEDED_ID_LIMIT' }]);
    expect(sf.records('Invoice__c')).toHaveLength(before);
  });

  it('accepts exactly 200 records', async () => {
    const response = await create(Array.from({ length: 200 }, () => next()));
    expect(response.status).toBe(200);
    expect(response.json.every((r: any) => r.success)).toBe(true);
  });

  it('reports each record, in order, with partial success when allOrNone is false', async () => {
    const good = next();
    const response = await create([
      good,
      next({ Invoice_Number__c: 'X'.repeat(41) }),
      next({ Status__c: 'Lost' }),
      next({ Region__c: undefined }),
      next({ CreatedDate: '2024-01-01T00:00:00Z', Total_With_Tax__c: 3 }),
      next({ Customer_Email__c: 'not-an-email' }),
      next({ Amount__c: 1e15 }),
    ]);
    expect(response.status).toBe(200);
    const [ok, tooLong, picklist, required, readOnly, email, range] = response.json;
    expect(ok).toEqual({ id: stored(good.Invoice_Number__c)!.Id, success: true, errors: [] });
    expect(tooLong).toEqual({
      success: false,
      errors: [{ statusCode: 'STRING_TOO_LONG', message: `Invoice Number: data value too large: ${'X'.repeat(41)} (max length=40)`, fields: ['Invoice_Number__c'] }],
    });
    expect(picklist.errors).toEqual([
      { statusCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', message: 'Status: bad value for restricted picklist field: Lost', fields: ['Status__c'] },
    ]);
    expect(required.errors).toEqual([{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Region__c]', fields: ['Region__c'] }]);
    expect(readOnly.errors[0]).toMatchObject({ statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: ['CreatedDate', 'Total_With_Tax__c'] });
    expect(readOnly.errors[0].message).toMatch(/^Unable to create\/update fields: CreatedDate, Total_With_Tax__c\. Please check the security settings/);
    expect(email.errors[0]).toMatchObject({ statusCode: 'INVALID_EMAIL_ADDRESS', fields: ['Customer_Email__c'] });
    expect(range.errors[0]).toMatchObject({ statusCode: 'NUMBER_OUTSIDE_VALID_RANGE', fields: ['Amount__c'] });
  });

  it('allOrNone: one failure fails every record, the others as rolled back, and nothing is written', async () => {
    const [a, b] = [next(), next()];
    const response = await create([a, next({ Status__c: 'Lost' }), b], true);
    expect(response.status).toBe(200);
    const rolledBack = {
      success: false,
      errors: [
        {
          statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
          message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
          fields: [],
        },
      ],
    };
    expect(response.json[0]).toEqual(rolledBack);
    expect(response.json[1].errors[0].statusCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    expect(response.json[2]).toEqual(rolledBack);
    expect(stored(a.Invoice_Number__c)).toBeUndefined();
    expect(stored(b.Invoice_Number__c)).toBeUndefined();
  });

  it('DUPLICATE_VALUE names the record already holding the unique value; within one call the id is unknown', async () => {
    const first = next();
    await create([first]);
    const holder = String(stored(first.Invoice_Number__c)!.Id);
    const twin = next();
    const response = await create([{ ...first }, twin, { ...twin }]);
    expect(response.json[0].errors).toEqual([
      { statusCode: 'DUPLICATE_VALUE', message: `duplicate value found: Invoice_Number__c duplicates value on record with id: ${holder.slice(0, 15)}`, fields: [] },
    ]);
    expect(response.json[1].success).toBe(true);
    expect(response.json[2].errors[0].message).toBe('duplicate value found: <unknown> duplicates value on record with id: <unknown>');
  });

  it('refuses the whole request for an unknown field or a value of the wrong JSON type', async () => {
    const unknown = await create([next(), next({ Colour__c: 'red' })]);
    expect(unknown.status).toBe(400);
    expect(unknown.json).toEqual([{ message: "No such column 'Colour__c' on sobject of type Invoice__c", errorCode: 'INVALID_FIELD' }]);

    const wrongType = await create([next({ Amount__c: 'twelve' })]);
    expect(wrongType.status).toBe(400);
    expect(wrongType.json[0].errorCode).toBe('JSON_PARSER_ERROR');
    expect(wrongType.json[0].message).toMatch(/^Cannot deserialize instance of currency from VALUE_STRING value twelve or request may be missing a required field at \[line:1, column:\d+\]$/);

    for (const bad of [{ Issued_On__c: '15/01/2024' }, { Issued_On__c: '2023-02-29' }, { Paid_At__c: '2024-01-15T10:00:00' }, { Is_Overdue__c: 'yes' }, { Region__c: { a: 1 } }]) {
      expect((await create([next(bad)])).status).toBe(400);
    }
    expect(sf.requests.every((r) => r.status === 400)).toBe(true);
  });

  it('reads field names without regard to case and numbers given as text, and stores normalized values', async () => {
    const row = { invoice_number__c: `CASE-${++seq}`, AMOUNT__C: '12.345', region__c: 'APAC', Paid_At__c: '2024-03-01T10:00:00+01:00' };
    const response = await create([row]);
    expect(response.json[0].success).toBe(true);
    expect(stored(row.invoice_number__c)).toMatchObject({ Amount__c: 12.35, Region__c: 'APAC', Paid_At__c: '2024-03-01T09:00:00.000+0000' });
  });

  it('updates by id; null clears a field, but not a required one', async () => {
    const row = next({ Notes__c: 'keep me?' });
    await create([row]);
    const id = stored(row.Invoice_Number__c)!.Id;
    const cleared = await update([{ id, Notes__c: null }]);
    expect(cleared.json).toEqual([{ id, success: true, errors: [] }]);
    expect(stored(row.Invoice_Number__c)!.Notes__c).toBeNull();
    const required = await update([{ Id: id, Region__c: null }]);
    expect(required.json[0]).toEqual({
      id,
      success: false,
      errors: [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Region__c]', fields: ['Region__c'] }],
    });
  });

  it('refuses updates of unknown, malformed or foreign ids, and of a record without an id', async () => {
    const ghost = 'a005g0000ZZZZZZ';
    const response = await update([{ Id: ghost, Notes__c: 'x' }, { Id: 'nonsense', Notes__c: 'x' }, { Id: '001000000000001', Notes__c: 'x' }, { Notes__c: 'x' }]);
    expect(response.json.map((r: any) => r.errors[0].statusCode)).toEqual(['INVALID_CROSS_REFERENCE_KEY', 'MALFORMED_ID', 'MALFORMED_ID', 'MISSING_ARGUMENT']);
    expect(response.json[2].errors[0]).toEqual({ statusCode: 'MALFORMED_ID', message: 'Invoice ID: id value of incorrect type: 001000000000001', fields: ['Id'] });
  });

  it('upserts on the external id; the same key twice in one call fails both', async () => {
    const existing = next();
    await create([existing]);
    const fresh = next();
    const response = await call(sf, 'PATCH', `${COLLECTION}/Invoice__c/Invoice_Number__c`, {
      allOrNone: false,
      records: records({ ...existing, Notes__c: 'updated' }, fresh, next({ Invoice_Number__c: 'TWICE' }), next({ Invoice_Number__c: 'twice' })),
    });
    expect(response.json.map((r: any) => [r.success, r.created])).toEqual([[true, false], [true, true], [false, false], [false, false]]);
    expect(response.json[2].errors[0]).toEqual({ statusCode: 'DUPLICATE_EXTERNAL_ID', message: 'Duplicate external id specified: TWICE', fields: ['Invoice_Number__c'] });
    expect(stored(existing.Invoice_Number__c)!.Notes__c).toBe('updated');

    const notExternal = await call(sf, 'PATCH', `${COLLECTION}/Invoice__c/Notes__c`, { records: records(next()) });
    expect(notExternal.status).toBe(404);
    expect(notExternal.json[0].errorCode).toBe('NOT_FOUND');
    // Name identifies records (idLookup), but a custom object upserts by external ids only.
    const byName = await call(sf, 'PATCH', `${COLLECTION}/Invoice__c/Name`, { records: records(next()) });
    expect([byName.status, byName.json[0].message]).toEqual([404, 'Provided external ID field does not exist or is not accessible: Name']);
    const wrongType = await call(sf, 'PATCH', `${COLLECTION}/Invoice__c/Invoice_Number__c`, { records: [{ attributes: { type: 'Account' }, Name: 'x' }] });
    expect(wrongType.status).toBe(400);
  });

  it('deletes by ids; with allOrNone a bad id keeps every record', async () => {
    const rows = [next(), next()];
    await create(rows);
    const ids = rows.map((r) => String(stored(r.Invoice_Number__c)!.Id));
    const refused = await call(sf, 'DELETE', `${COLLECTION}?ids=${ids.join(',')},bogus&allOrNone=true`);
    expect(refused.json.map((r: any) => r.errors[0].statusCode)).toEqual(['ALL_OR_NONE_OPERATION_ROLLED_BACK', 'ALL_OR_NONE_OPERATION_ROLLED_BACK', 'MALFORMED_ID']);
    expect(ids.every((id) => sf.records('Invoice__c').some((r) => r.Id === id))).toBe(true);
    const done = await call(sf, 'DELETE', `${COLLECTION}?ids=${ids.join(',')}`);
    expect(done.json).toEqual(ids.map((id) => ({ id, success: true, errors: [] })));
    const twice = await call(sf, 'DELETE', `${COLLECTION}?ids=${ids[0]}`);
    expect(twice.json[0]).toEqual({ id: ids[0], success: false, errors: [{ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }] });
  });


  it('a unique value follows its record through updates and deletes: freed when changed or deleted, taken by its new holder', async () => {
    const [a, b] = [next(), next()];
    await create([a, b]);
    const [idA, idB] = [a, b].map((row) => String(stored(row.Invoice_Number__c)!.Id));
    const upsertBy = (rows: Record<string, unknown>[]) => call(sf, 'PATCH', `${COLLECTION}/Invoice__c/Invoice_Number__c`, { allOrNone: false, records: records(...rows) });
    // Looked up once (an upsert), then renamed: the old value is free, the new one is taken.
    expect((await upsertBy([{ ...a, Notes__c: 'seen' }])).json[0]).toMatchObject({ success: true, created: false });
    const renamed = `${String(a.Invoice_Number__c)}-R`;
    expect((await update([{ id: idA, Invoice_Number__c: renamed }])).json[0].success).toBe(true);
    expect((await update([{ id: idB, Invoice_Number__c: renamed.toLowerCase() }])).json[0].errors[0].statusCode).toBe('DUPLICATE_VALUE');
    expect((await upsertBy([{ ...a, Notes__c: 'new record' }])).json[0]).toMatchObject({ success: true, created: true });
    expect((await upsertBy([{ ...a, Invoice_Number__c: renamed, Notes__c: 'renamed' }])).json[0]).toEqual({ id: idA, success: true, created: false, errors: [] });
    // Deleted: its value can be created again.
    await call(sf, 'DELETE', `${COLLECTION}?ids=${idA}`);
    expect((await create([{ ...a, Invoice_Number__c: renamed }])).json[0].success).toBe(true);
  });
  it('fills in Name with the record id when it is left out', async () => {
    const row = next();
    await create([row]);
    const record = stored(row.Invoice_Number__c)!;
    expect(record.Name).toBe(record.Id);
    expect(record).toMatchObject({ IsDeleted: false, Is_Overdue__c: false });
    expect(String(record.CreatedDate)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
  });
});
