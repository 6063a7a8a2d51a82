import { describe, expect, it } from 'vitest';
import { toHubSpotValue } from '../../../src/crm/hubspot/values.ts';
import type { HubSpotProperty } from '../../../src/crm/hubspot/properties.ts';

const property = (type: string, fieldType: string, options: [string, string][] = []): HubSpotProperty => ({
  name: 'p', label: 'P', type, fieldType, options: options.map(([label, value]) => ({ label, value })),
  externalOptions: false, hasUniqueValue: false,
});

describe('toHubSpotValue', () => {
  it('sends every value as a string and clears with ""', () => {
    expect(toHubSpotValue(property('number', 'number'), 12.5)).toEqual({ ok: true, value: '12.5' });
    expect(toHubSpotValue(property('bool', 'booleancheckbox'), 'yes')).toEqual({ ok: true, value: 'true' });
    expect(toHubSpotValue(property('string', 'text'), null)).toEqual({ ok: true, value: '' });
    expect(toHubSpotValue(property('string', 'text'), { a: 1 })).toEqual({ ok: true, value: '{"a":1}' });
  });

  it('formats dates at midnight UTC and refuses other times like HubSpot', () => {
    expect(toHubSpotValue(property('date', 'date'), '2026-01-05T00:00:00Z')).toEqual({ ok: true, value: '2026-01-05' });
    expect(toHubSpotValue(property('date', 'date'), '2026-01-05T09:30:00Z')).toMatchObject({ ok: false, rejection: { code: 'INVALID_DATE', field: 'p' } });
    expect(toHubSpotValue(property('datetime', 'date'), '2026-01-05 09:30:00')).toEqual({ ok: true, value: '2026-01-05T09:30:00.000Z' });
  });

  it('maps enumeration labels to option values, case-insensitively, and joins multi-select with ;', () => {
    const status = property('enumeration', 'select', [['Open', 'open'], ['Paid in full', 'paid']]);
    expect(toHubSpotValue(status, 'paid')).toEqual({ ok: true, value: 'paid' });
    expect(toHubSpotValue(status, 'PAID IN FULL')).toEqual({ ok: true, value: 'paid' });
    expect(toHubSpotValue(status, 'void')).toMatchObject({ ok: false, rejection: { code: 'INVALID_OPTION' } });
    const tags = property('enumeration', 'checkbox', [['Red', 'r'], ['Blue', 'b']]);
    expect(toHubSpotValue(tags, ['Red', 'b'])).toEqual({ ok: true, value: 'r;b' });
    expect(toHubSpotValue(tags, 'r;Blue')).toEqual({ ok: true, value: 'r;b' });
    expect(toHubSpotValue(tags, [])).toEqual({ ok: true, value: '' });
  });

  it('refuses numbers HubSpot would refuse', () => {
    expect(toHubSpotValue(property('number', 'number'), '1,000')).toMatchObject({ ok: false, rejection: { code: 'INVALID_NUMBER' } });
    expect(toHubSpotValue(property('number', 'number'), true)).toMatchObject({ ok: false });
  });
});
