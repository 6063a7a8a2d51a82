// SOQL: the subset the connector uses, Salesforce's string escaping, its refusals, and the URI limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../../emulators/salesforce/index.ts';
import { API, call, invoice, startOrg } from './fixtures.ts';

describe('SOQL queries', () => {
  let sf: SalesforceEmulator;

  beforeAll(async () => {
    sf = await startOrg();
    sf.seedRecords('Invoice__c', [
      invoice(1, { Notes__c: "O'Brien \\ Co", Status__c: 'Paid', Issued_On__c: '2024-01-10' }),
      invoice(2, { Notes__c: 'line one\nline two', Status__c: 'Draft', Issued_On__c: '2024-02-10' }),
      invoice(3, { Notes__c: 'say "hi"', Status__c: 'Sent', Amount__c: 700 }),
      invoice(4, { Region__c: 'APAC', Status__c: 'Paid' }),
    ]);
  });
  afterAll(() => sf.close());

  const query = (soql: string) => call(sf, 'GET', `${API}/query?q=${encodeURIComponent(soql)}`);
  const numbers = async (soql: string) => {
    const response = await query(soql);
    expect(response.status, response.text).toBe(200);
    return response.json.records.map((r: any) => r.Invoice_Number__c);
  };

  it('answers records with attributes, in the selected fields only', async () => {
    const response = await query("SELECT Id, Invoice_Number__c FROM Invoice__c WHERE Invoice_Number__c IN ('INV-00001', 'INV-00003')");
    expect(response.json.totalSize).toBe(2);
    expect(response.json.done).toBe(true);
    const [first] = response.json.records;
    expect(Object.keys(first)).toEqual(['attributes', 'Id', 'Invoice_Number__c']);
    expect(first.attributes).toEqual({ type: 'Invoice__c', url: `${API}/sobjects/Invoice__c/${first.Id}` });
  });

  it('decodes escaped quotes and backslashes in string literals', async () => {
    expect(await numbers("SELECT Invoice_Number__c FROM Invoice__c WHERE Notes__c = 'O\\'Brien \\\\ Co'")).toEqual(['INV-00001']);
    expect(await numbers("SELECT Invoice_Number__c FROM Invoice__c WHERE Notes__c = 'line one\\nline two'")).toEqual(['INV-00002']);
    expect(await numbers("SELECT Invoice_Number__c FROM Invoice__c WHERE Notes__c = 'say \\\"hi\\\"'")).toEqual(['INV-00003']);
  });

  it('decodes \\uXXXX escapes in string literals', async () => {
    expect(await numbers("SELECT Invoice_Number__c FROM Invoice__c WHERE Notes__c = 'O\\u0027Brien \\u005c Co'")).toEqual(['INV-00001']);
    expect(await numbers("SELECT Invoice_Number__c FROM Invoice__c WHERE Notes__c = 'line one\\u000aline two'")).toEqual(['INV-00002']);
    const short = await query("SELECT Id FROM Invoice__c WHERE Notes__c = 'a\\u00zz'");
    expect([short.status, short.json[0].errorCode]).toEqual([400, 'MALFORMED_QUERY']);
  });

  it('refuses an unescaped quote or an unknown escape as MALFORMED_QUERY', async () => {
    const unescaped = await query("SELECT Id FROM Invoice__c WHERE Notes__c = 'O'Brien \\\\ Co'");
    expect(unescaped.status).toBe(400);
    expect(unescaped.json[0].errorCode).toBe('MALFORMED_QUERY');
    expect(unescaped.json[0].message).toMatch(/\nERROR at Row:1:Column:47\nunexpected token: Brien$/);
    const badEscape = await query("SELECT Id FROM Invoice__c WHERE Notes__c = 'a\\qb'");
    expect(badEscape.status).toBe(400);
    expect(badEscape.json[0].errorCode).toBe('MALFORMED_QUERY');
  });

  it('refuses unknown objects and fields, and literals of the wrong type', async () => {
    const object = await query('SELECT Id FROM Invoices__c');
    expect(object.json[0]).toMatchObject({ errorCode: 'INVALID_TYPE' });
    expect(object.json[0].message).toContain("sObject type 'Invoices__c' is not supported.");
    const field = await query('SELECT Id, Colour__c FROM Invoice__c');
    expect(field.json[0]).toMatchObject({ errorCode: 'INVALID_FIELD' });
    expect(field.json[0].message).toContain("No such column 'Colour__c' on entity 'Invoice__c'.");
    const quotedNumber = await query("SELECT Id FROM Invoice__c WHERE Amount__c = '700'");
    expect(quotedNumber.json[0].message).toContain("value of filter criterion for field 'Amount__c' must be of type double and should not be enclosed in quotes");
    const badId = await query("SELECT Id FROM Invoice__c WHERE Id = 'abc'");
    expect(badId.json[0]).toMatchObject({ errorCode: 'INVALID_QUERY_FILTER_OPERATOR' });
    const mixed = await query("SELECT Id FROM Invoice__c WHERE Region__c = 'EMEA' AND Status__c = 'Paid' OR Amount__c > 1");
    expect(mixed.json[0]).toMatchObject({ errorCode: 'MALFORMED_QUERY' });
  });

  it('filters with AND, OR in parentheses, NOT IN, comparisons, dates, LIKE and null', async () => {
    expect(await numbers("SELECT Invoice_Number__c FROM Invoice__c WHERE Region__c = 'emea' AND (Status__c = 'Paid' OR Amount__c > 500) ORDER BY Invoice_Number__c")).toEqual(['INV-00001', 'INV-00003']);
    expect(await numbers("SELECT Invoice_Number__c FROM Invoice__c WHERE Status__c NOT IN ('Paid') ORDER BY Invoice_Number__c DESC")).toEqual(['INV-00003', 'INV-00002']);
    expect(await numbers('SELECT Invoice_Number__c FROM Invoice__c WHERE Issued_On__c >= 2024-02-01')).toEqual(['INV-00002']);
    expect(await numbers("SELECT Invoice_Number__c FROM Invoice__c WHERE Notes__c LIKE 'line%'")).toEqual(['INV-00002']);
    expect(await numbers('SELECT Invoice_Number__c FROM Invoice__c WHERE Notes__c = null')).toEqual(['INV-00004']);
    expect(await numbers('SELECT Invoice_Number__c FROM Invoice__c ORDER BY Amount__c DESC LIMIT 2')).toEqual(['INV-00003', 'INV-00004']);
  });

  it('counts with COUNT()', async () => {
    const response = await query("SELECT COUNT() FROM Invoice__c WHERE Status__c = 'Paid'");
    expect(response.json).toEqual({ totalSize: 2, done: true, records: [] });
  });

  it('pages by Sforce-Query-Options batchSize and refuses an unknown locator', async () => {
    sf.seedRecords('Invoice__c', Array.from({ length: 450 }, (_, i) => invoice(5000 + i, { Region__c: 'PAGE' })));
    const first = await call(sf, 'GET', `${API}/query?q=${encodeURIComponent("SELECT Id FROM Invoice__c WHERE Region__c = 'PAGE'")}`, undefined, {
      'Sforce-Query-Options': 'batchSize=200',
    });
    expect(first.json).toMatchObject({ totalSize: 450, done: false });
    expect(first.json.records).toHaveLength(200);
    expect(first.json.nextRecordsUrl).toMatch(new RegExp(`^${API}/query/01g[A-Za-z0-9]{15}-200$`));
    const second = await call(sf, 'GET', first.json.nextRecordsUrl);
    expect(second.json.records).toHaveLength(200);
    const last = await call(sf, 'GET', second.json.nextRecordsUrl);
    expect(last.json).toMatchObject({ done: true });
    expect(last.json.records).toHaveLength(50);
    expect(last.json.nextRecordsUrl).toBeUndefined();
    const unknown = await call(sf, 'GET', `${API}/query/01gAAAAAAAAAAAAAAA-2000`);
    expect(unknown.json).toEqual([{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
  });

  it('refuses a URI over 16,384 bytes with 414, and URI plus headers over it with 431', async () => {
    const values = Array.from({ length: 1200 }, (_, i) => `'INV-${String(i).padStart(8, '0')}'`).join(',');
    const long = await query(`SELECT Id FROM Invoice__c WHERE Invoice_Number__c IN (${values})`);
    expect(long.status).toBe(414);
    const fits = "SELECT Id FROM Invoice__c WHERE Notes__c = 'x'";
    const headers = await call(sf, 'GET', `${API}/query?q=${encodeURIComponent(fits)}`, undefined, { 'X-Padding': 'p'.repeat(16_300) });
    expect(headers.status).toBe(431);
    expect(sf.requests.filter((r) => r.status === 414 || r.status === 431)).toHaveLength(2);
  });
});
