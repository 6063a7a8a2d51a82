// Unit tests of the pieces whose edge cases are cheaper to enumerate here than through the CLI:
// value conversion per describe type, SOQL literals and lookup chunking, Bulk error text.
import { describe, expect, it } from 'vitest';
import { keyComparer, lookupQueries, MAX_QUERY_URI_BYTES, soqlString } from '../../src/crm/salesforce/lookup.ts';
import { outcomeOf, parseBulkErrors } from '../../src/crm/salesforce/outcomes.ts';
import type { SalesforceField, SalesforceObject } from '../../src/crm/salesforce/schema.ts';
import { sameSalesforceValue, toCsvCell, toJsonValue, toSalesforceValue } from '../../src/crm/salesforce/values.ts';
import type { SalesforceApi } from '../../src/crm/salesforce/api.ts';

function field(type: string, extra: Partial<SalesforceField> = {}): SalesforceField {
  return {
    name: 'F__c', label: 'F', type, length: 0, precision: 0, scale: 0, digits: 0, createable: true, updateable: true, nillable: true,
    defaultedOnCreate: false, calculated: false, autoNumber: false, externalId: false, idLookup: false, unique: false, caseSensitive: false,
    picklistValues: [], restrictedPicklist: false, referenceTo: [], relationshipName: null, ...extra,
  };
}

const value = (f: SalesforceField, raw: unknown) => toSalesforceValue(f, raw);
const code = (f: SalesforceField, raw: unknown) => {
  const converted = toSalesforceValue(f, raw);
  return converted.ok ? 'ok' : converted.rejection.code;
};

describe('toSalesforceValue', () => {
  it('keeps decimals exact as text, within the field precision', () => {
    const currency = field('currency', { precision: 5, scale: 2 });
    expect(value(currency, 123.45)).toEqual({ ok: true, value: '123.45' });
    expect(value(currency, '0.000001')).toEqual({ ok: true, value: '0.000001' });
    expect(value(currency, '1e2')).toEqual({ ok: true, value: '100' });
    expect(code(currency, 1234)).toBe('NUMBER_OUTSIDE_VALID_RANGE');
    expect(code(currency, 'twelve')).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
    expect(code(currency, true)).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
    expect(toJsonValue(currency, '123.45000000000000001')).toSatisfy((raw: unknown) => JSON.stringify({ a: raw }) === '{"a":123.45000000000000001}');
  });

  it('takes whole numbers for int fields, within 32 bits and the field digits', () => {
    expect(value(field('int'), '12.0')).toEqual({ ok: true, value: '12' });
    expect(code(field('int'), 12.5)).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
    expect(code(field('int'), 2_147_483_648)).toBe('NUMBER_OUTSIDE_VALID_RANGE');
    expect(code(field('int', { digits: 3 }), 1000)).toBe('NUMBER_OUTSIDE_VALID_RANGE');
  });

  it('reads booleans, and a checkbox is never null', () => {
    expect(value(field('boolean'), 'yes')).toEqual({ ok: true, value: true });
    expect(value(field('boolean'), null)).toEqual({ ok: true, value: false });
    expect(code(field('boolean'), 'maybe')).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
  });

  it('formats dates, date-times and times as Salesforce reads them', () => {
    expect(value(field('date'), '2026-02-28')).toEqual({ ok: true, value: '2026-02-28' });
    expect(value(field('date'), '2026-02-28T00:00:00Z')).toEqual({ ok: true, value: '2026-02-28' });
    expect(code(field('date'), '2026-02-30')).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
    expect(code(field('date'), '2026-02-28T10:00:00Z')).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
    expect(value(field('datetime'), '2026-02-01 08:30:00+02:00')).toEqual({ ok: true, value: '2026-02-01T06:30:00.000Z' });
    expect(value(field('datetime'), 1767225600000)).toEqual({ ok: true, value: '2026-01-01T00:00:00.000Z' });
    expect(value(field('time'), '08:30')).toEqual({ ok: true, value: '08:30:00.000Z' });
    expect(code(field('time'), '25:00')).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
  });

  it('matches picklist values by value or label, and refuses others only when restricted', () => {
    const picklistValues = [{ value: 'paid_full', label: 'Paid in full' }, { value: 'Open', label: 'Open' }];
    const restricted = field('picklist', { picklistValues, restrictedPicklist: true, length: 255 });
    expect(value(restricted, 'paid in FULL')).toEqual({ ok: true, value: 'paid_full' });
    expect(value(restricted, 'open')).toEqual({ ok: true, value: 'Open' });
    expect(value(restricted, null)).toEqual({ ok: true, value: null });
    expect(toSalesforceValue(restricted, 'Lost')).toEqual({
      ok: false, rejection: { code: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', field: 'F__c', message: 'F: bad value for restricted picklist field: Lost' },
    });
    expect(value(field('picklist', { picklistValues, length: 255 }), 'Lost')).toEqual({ ok: true, value: 'Lost' });
  });

  it('joins multipicklist choices with ; and drops repeats and blanks', () => {
    const tags = field('multipicklist', { picklistValues: [{ value: 'A', label: 'Alpha' }, { value: 'B', label: 'B' }], restrictedPicklist: true, length: 4099 });
    expect(value(tags, ['alpha', 'B', 'A', ''])).toEqual({ ok: true, value: 'A;B' });
    expect(value(tags, 'B; A')).toEqual({ ok: true, value: 'B;A' });
    expect(value(tags, [])).toEqual({ ok: true, value: null });
    expect(code(tags, ['A', 'C'])).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
  });

  it('checks text length, email shape and id shape', () => {
    expect(code(field('string', { length: 3 }), 'abcd')).toBe('STRING_TOO_LONG');
    expect(value(field('string', { length: 3 }), 123)).toEqual({ ok: true, value: '123' });
    expect(value(field('textarea', { length: 100 }), { a: 1 })).toEqual({ ok: true, value: '{"a":1}' });
    expect(code(field('email', { length: 80 }), 'nobody')).toBe('INVALID_EMAIL_ADDRESS');
    expect(code(field('reference', { length: 18 }), '001xx')).toBe('MALFORMED_ID');
    expect(value(field('reference', { length: 18 }), '001000000000001AAA')).toEqual({ ok: true, value: '001000000000001AAA' });
    expect(value(field('string'), '')).toEqual({ ok: true, value: null });
  });

  it('writes null as #N/A in Bulk CSV', () => {
    expect([toCsvCell(null), toCsvCell(false), toCsvCell('x')]).toEqual(['#N/A', 'false', 'x']);
  });
});

describe('sameSalesforceValue (change_detection crm)', () => {
  it('takes empty text and null as one, and a checkbox as a boolean', () => {
    expect(sameSalesforceValue(field('string'), null, null)).toBe(true);
    expect(sameSalesforceValue(field('string'), null, '')).toBe(true);
    expect(sameSalesforceValue(field('string'), 'x', null)).toBe(false);
    expect(sameSalesforceValue(field('boolean'), false, null)).toBe(true);
    expect(sameSalesforceValue(field('boolean'), true, false)).toBe(false);
  });

  it('compares numbers by value at the field scale, dates and date-times as instants', () => {
    const currency = field('currency', { precision: 16, scale: 2 });
    expect(sameSalesforceValue(currency, '12.50', 12.5)).toBe(true);
    expect(sameSalesforceValue(currency, '12.504', 12.5)).toBe(true);
    expect(sameSalesforceValue(currency, '12.51', 12.5)).toBe(false);
    expect(sameSalesforceValue(field('int'), '7', 7)).toBe(true);
    expect(sameSalesforceValue(field('int'), '7', 8)).toBe(false);
    expect(sameSalesforceValue(field('date'), '2026-03-01', '2026-03-01')).toBe(true);
    expect(sameSalesforceValue(field('datetime'), '2026-02-01T08:30:00.000Z', '2026-02-01T08:30:00.000+0000')).toBe(true);
    expect(sameSalesforceValue(field('datetime'), '2026-02-01T08:30:00.000Z', '2026-02-01T09:30:00.000+0100')).toBe(true);
    expect(sameSalesforceValue(field('datetime'), '2026-02-01T08:30:01.000Z', '2026-02-01T08:30:00.000+0000')).toBe(false);
  });

  it('compares multi-select picklists as sets, ids by 15 characters, text and picklists exactly', () => {
    expect(sameSalesforceValue(field('multipicklist'), 'A;B', 'B;A')).toBe(true);
    expect(sameSalesforceValue(field('multipicklist'), 'A;B', 'A')).toBe(false);
    expect(sameSalesforceValue(field('reference'), 'a01000000000001', 'a01000000000001AAA')).toBe(true);
    expect(sameSalesforceValue(field('picklist'), 'Open', 'open')).toBe(false);
    expect(sameSalesforceValue(field('string'), 'abc', 'abc')).toBe(true);
  });
});

describe('SOQL lookups', () => {
  const object = { name: 'Invoice__c' } as SalesforceObject;
  const api = { dataPath: '/services/data/v62.0' } as SalesforceApi;

  it('escapes backslash, quotes and control characters in literals', () => {
    expect(soqlString("it's a \\ \"test\"\n\r\t\b\f\u0001")).toBe("'it\\'s a \\\\ \\\"test\\\"\\n\\r\\t\\b\\f\\u0001'");
  });

  it('writes numeric keys bare and compares keys as Salesforce does', () => {
    const numeric = field('double', { name: 'Num__c' });
    expect(lookupQueries(api, object, numeric, ['12', '13.5'])).toEqual(['SELECT Id, Num__c FROM Invoice__c WHERE Num__c IN (12,13.5)']);
    expect(keyComparer(numeric)('012.50')).toBe(keyComparer(numeric)(12.5));
    expect(keyComparer(field('string'))('ABC')).toBe('abc');
    expect(keyComparer(field('string', { caseSensitive: true }))('ABC')).toBe('ABC');
  });

  it('splits keys into queries whose URI stays under the limit, each key once', () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `kéy'${i}`);
    const queries = lookupQueries(api, object, field('string', { name: 'Key__c' }), [...keys, ...keys]);
    expect(queries.length).toBeGreaterThan(1);
    // As the request's URL sends it: the query's quotes percent-encoded too.
    for (const soql of queries) {
      const url = new URL(`https://example.my.salesforce.com${api.dataPath}/query?q=${encodeURIComponent(soql)}`);
      expect(url.pathname.length + url.search.length).toBeLessThanOrEqual(MAX_QUERY_URI_BYTES);
    }
    const listed = queries.flatMap((soql) => soql.slice(soql.indexOf('IN (') + 4, -1).split("','"));
    expect(listed).toHaveLength(3000);
  });
});

describe('result reading', () => {
  it('parses Bulk API error text, colons in messages included', () => {
    expect(parseBulkErrors('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Status: bad value for restricted picklist field: Lost:Status__c --')).toEqual([
      { statusCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', message: 'Status: bad value for restricted picklist field: Lost', fields: ['Status__c'] },
    ]);
    expect(parseBulkErrors('INVALID_CROSS_REFERENCE_KEY:invalid cross reference id: --\nREQUIRED_FIELD_MISSING:Required fields are missing: [A__c, B__c]:A__c,B__c --')).toEqual([
      { statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'invalid cross reference id', fields: [] },
      { statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [A__c, B__c]', fields: ['A__c', 'B__c'] },
    ]);
  });

  it('counts a missing or deleted record as not_found for update and delete only', () => {
    const gone = { success: false, errors: [{ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }] };
    const unknown = { success: false, errors: [{ statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'invalid cross reference id', fields: [] }] };
    const badLookup = { success: false, errors: [{ statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'bad account', fields: ['Account__c'] }] };
    expect(outcomeOf('update', gone)).toEqual({ status: 'not_found' });
    expect(outcomeOf('delete', unknown)).toEqual({ status: 'not_found' });
    expect(outcomeOf('update', badLookup)).toEqual({ status: 'rejected', code: 'INVALID_CROSS_REFERENCE_KEY', message: 'bad account', field: 'Account__c' });
    expect(outcomeOf('upsert', { success: true, id: 'a00', created: true })).toEqual({ status: 'created', id: 'a00' });
    expect(outcomeOf('upsert', { success: true, id: 'a00', created: false })).toEqual({ status: 'updated', id: 'a00' });
  });
});
