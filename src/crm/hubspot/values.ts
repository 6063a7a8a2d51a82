// Converts a row's value to what HubSpot accepts for the property's type: every value is a
// string; null clears (""). A value that cannot convert rejects the row here, with the code
// HubSpot itself would answer, and costs no API call.
import type { Rejection } from '../destination.js';
import { exactScalar, readBoolean, readDate, readDecimal, readInstant, readText, sameDecimal, sameOptionSet } from '../values.js';
import type { HubSpotProperty } from './properties.js';

export const MAX_STRING_LENGTH = 65_536;

export type Converted = { ok: true; value: string } | { ok: false; rejection: Rejection };

export function toHubSpotValue(property: HubSpotProperty, input: unknown): Converted {
  const value = exactScalar(input);
  if (value === null || value === undefined) return ok('');
  switch (property.type) {
    case 'number': return convertNumber(property, value);
    case 'bool': return convertBool(property, value);
    case 'date': return convertDate(property, value);
    case 'datetime': return convertDatetime(property, value);
    case 'enumeration': return convertEnumeration(property, value);
    default: return convertString(property, value);
  }
}

const ok = (value: string): Converted => ({ ok: true, value });

function reject(property: HubSpotProperty, code: string, message: string): Converted {
  return { ok: false, rejection: { code, field: property.name, message: `${property.name}: ${message}` } };
}

function convertString(property: HubSpotProperty, value: unknown): Converted {
  const text = readText(value);
  if (text.length > MAX_STRING_LENGTH) return reject(property, 'STRING_TOO_LONG', `${text.length} characters, more than ${MAX_STRING_LENGTH}`);
  return ok(text);
}

function convertNumber(property: HubSpotProperty, value: unknown): Converted {
  if (value === '') return ok('');
  const decimal = readDecimal(value);
  return decimal === undefined ? reject(property, 'INVALID_NUMBER', `${JSON.stringify(value)} is not a number`) : ok(decimal);
}

function convertBool(property: HubSpotProperty, value: unknown): Converted {
  if (value === '') return ok('');
  const bool = readBoolean(value);
  return bool === undefined ? reject(property, 'INVALID_BOOLEAN', `${JSON.stringify(value)} is not a boolean`) : ok(String(bool));
}

function convertDate(property: HubSpotProperty, value: unknown): Converted {
  if (value === '') return ok('');
  const date = readDate(value);
  if (!date) return reject(property, 'INVALID_DATE', `${JSON.stringify(value)} is not a date`);
  if ('notMidnight' in date) return reject(property, 'INVALID_DATE', `${JSON.stringify(value)} is at ${date.notMidnight} UTC, not midnight`);
  return ok(date.date);
}

function convertDatetime(property: HubSpotProperty, value: unknown): Converted {
  if (value === '') return ok('');
  const instant = readInstant(value);
  return instant ? ok(instant.toISOString()) : reject(property, 'INVALID_DATETIME', `${JSON.stringify(value)} is not a date-time`);
}

function convertEnumeration(property: HubSpotProperty, value: unknown): Converted {
  if (value === '') return ok('');
  const multiple = property.fieldType === 'checkbox';
  const wanted = Array.isArray(value) ? value : multiple && typeof value === 'string' ? value.split(';') : [value];
  if (!multiple && wanted.length > 1) return reject(property, 'INVALID_OPTION', `${JSON.stringify(value)}: one option expected`);
  const chosen: string[] = [];
  for (const item of wanted) {
    const option = findOption(property, item);
    if (option === undefined) {
      const allowed = property.options.map((o) => o.value).join(', ');
      return reject(property, 'INVALID_OPTION', `${JSON.stringify(item)} is not one of the allowed options: ${allowed}`);
    }
    chosen.push(option);
  }
  return ok(chosen.join(';'));
}

/** The option's internal value, by exact value, else by label or value ignoring case. */
function findOption(property: HubSpotProperty, item: unknown): string | undefined {
  if (item === null || item === undefined) return undefined;
  const text = typeof item === 'boolean' ? String(item) : readText(item).trim();
  if (property.externalOptions && property.options.length === 0) return text;
  const exact = property.options.find((o) => o.value === text);
  if (exact) return exact.value;
  const lower = text.toLowerCase();
  return property.options.find((o) => o.label.toLowerCase() === lower || o.value.toLowerCase() === lower)?.value;
}

/**
 * Whether HubSpot already holds the value we would send, in HubSpot's terms: an empty value and
 * no value are the same, numbers and instants compare by value, multi-select options as a set.
 */
export function sameHubSpotValue(property: HubSpotProperty, sent: string, current: string | null | undefined): boolean {
  const held = current ?? '';
  if (sent === '' || held === '') return sent === held;
  switch (property.type) {
    case 'number': return sameDecimal(sent, held);
    case 'datetime': return Date.parse(sent) === Date.parse(held);
    case 'bool': return sent.toLowerCase() === held.toLowerCase();
    case 'enumeration':
      if (property.fieldType !== 'checkbox') return sent === held;
      return sameOptionSet(sent.split(';'), held.split(';'));
    default: return sent === held;
  }
}
