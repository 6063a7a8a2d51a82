// Converts a row's value to what Salesforce accepts for the field's describe type. A value that
// cannot convert rejects the row here, with the code and message Salesforce itself would answer,
// and costs no API call. Converted values are wire-neutral (text, plain decimal text, booleans,
// null) so one row can go out as JSON (sObject Collections) or as a CSV cell (Bulk API 2.0).
import type { Rejection } from '../destination.js';
import { exactScalar, readBoolean, readDate, readDecimal, readInstant, readText, sameOptionSet } from '../values.js';
import type { SalesforceField } from './schema.js';
import { rawJson } from '../../raw-json.js';

export type SalesforceValue = string | boolean | null;
export type Converted = { ok: true; value: SalesforceValue } | { ok: false; rejection: Rejection };

/** What Bulk API 2.0 reads as "set this field to null" (an empty cell leaves the field as it is). */
export const CSV_NULL = '#N/A';

const DECIMAL_TYPES = new Set(['double', 'currency', 'percent']);
const TEXT_TYPES = new Set(['string', 'textarea', 'email', 'phone', 'url', 'encryptedstring', 'combobox']);
const ID_SHAPE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const INT32_MAX = 2_147_483_647n;
const SHOWN_VALUE_LENGTH = 60;

export function toSalesforceValue(field: SalesforceField, input: unknown): Converted {
  const value = exactScalar(input);
  if (value === null || value === undefined || value === '') {
    // A checkbox is never null in Salesforce: empty means unchecked.
    return ok(field.type === 'boolean' ? false : null);
  }
  if (DECIMAL_TYPES.has(field.type)) return convertDecimal(field, value);
  switch (field.type) {
    case 'int': return convertInt(field, value);
    case 'boolean': return convertBoolean(field, value);
    case 'date': return convertDate(field, value);
    case 'datetime': return convertDatetime(field, value);
    case 'time': return convertTime(field, value);
    case 'picklist': return convertPicklist(field, value);
    case 'multipicklist': return convertMultipicklist(field, value);
    case 'reference':
    case 'id': return convertId(field, value);
    default: return convertText(field, value);
  }
}

/** The form sObject Collections takes: numbers as JSON numbers, exactly as the decimal text says. */
export function toJsonValue(field: SalesforceField, value: SalesforceValue): unknown {
  if (typeof value === 'string' && (DECIMAL_TYPES.has(field.type) || field.type === 'int')) {
    return rawJson(value);
  }
  return value;
}

/** The form a Bulk API 2.0 CSV cell takes. */
export function toCsvCell(value: SalesforceValue): string {
  if (value === null) return CSV_NULL;
  return typeof value === 'boolean' ? String(value) : value;
}

const ok = (value: SalesforceValue): Converted => ({ ok: true, value });

function reject(field: SalesforceField, code: string, message: string): Converted {
  return { ok: false, rejection: { code, field: field.name, message: `${field.label}: ${message}` } };
}

function shown(value: unknown): string {
  const text = readText(value);
  return text.length > SHOWN_VALUE_LENGTH ? `${text.slice(0, SHOWN_VALUE_LENGTH)}…` : text;
}

function notOfType(field: SalesforceField, value: unknown): Converted {
  return reject(field, 'INVALID_TYPE_ON_FIELD_IN_RECORD', `value not of required type: ${shown(value)}`);
}

function convertText(field: SalesforceField, value: unknown): Converted {
  const text = readText(value);
  if (field.length > 0 && text.length > field.length) {
    return reject(field, 'STRING_TOO_LONG', `data value too large: ${shown(text)} (max length=${field.length})`);
  }
  if (field.type === 'email' && !EMAIL.test(text)) return reject(field, 'INVALID_EMAIL_ADDRESS', `invalid email address: ${shown(text)}`);
  if (!TEXT_TYPES.has(field.type) && typeof value === 'object') return notOfType(field, value);
  return ok(text);
}

/** Decimals keep their digits; the integer part may hold precision - scale of them. */
function convertDecimal(field: SalesforceField, value: unknown): Converted {
  const decimal = typeof value === 'boolean' ? undefined : readDecimal(value);
  if (decimal === undefined) return notOfType(field, value);
  const integerDigits = decimal.replace(/^-/, '').split('.')[0].replace(/^0+/, '').length;
  if (field.precision > 0 && integerDigits > field.precision - field.scale) {
    return reject(field, 'NUMBER_OUTSIDE_VALID_RANGE', `value outside of valid range on numeric field: ${decimal}`);
  }
  return ok(decimal);
}

function convertInt(field: SalesforceField, value: unknown): Converted {
  const decimal = typeof value === 'boolean' ? undefined : readDecimal(value);
  if (decimal === undefined || !/^-?\d+(\.0*)?$/.test(decimal)) return notOfType(field, value);
  const integer = BigInt(decimal.split('.')[0]);
  const magnitude = integer < 0n ? -integer : integer;
  if (magnitude > INT32_MAX || (field.digits > 0 && magnitude.toString().length > field.digits)) {
    return reject(field, 'NUMBER_OUTSIDE_VALID_RANGE', `value outside of valid range on numeric field: ${integer}`);
  }
  return ok(integer.toString());
}

function convertBoolean(field: SalesforceField, value: unknown): Converted {
  const bool = readBoolean(value);
  return bool === undefined ? notOfType(field, value) : ok(bool);
}

function convertDate(field: SalesforceField, value: unknown): Converted {
  const date = readDate(value);
  if (!date) return notOfType(field, value);
  if ('notMidnight' in date) return reject(field, 'INVALID_TYPE_ON_FIELD_IN_RECORD', `value not of required type: ${shown(value)} (a date; this is at ${date.notMidnight} UTC)`);
  return ok(date.date);
}

function convertDatetime(field: SalesforceField, value: unknown): Converted {
  const instant = readInstant(value);
  return instant ? ok(instant.toISOString()) : notOfType(field, value);
}

const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?Z?$/;

function convertTime(field: SalesforceField, value: unknown): Converted {
  const match = typeof value === 'string' ? TIME.exec(value.trim()) : null;
  if (!match || Number(match[1]) > 23 || Number(match[2]) > 59 || Number(match[3] ?? 0) > 59) return notOfType(field, value);
  const millis = (match[4] ?? '.000').padEnd(4, '0');
  return ok(`${match[1]}:${match[2]}:${match[3] ?? '00'}${millis}Z`);
}

function convertId(field: SalesforceField, value: unknown): Converted {
  const text = readText(value).trim();
  return ID_SHAPE.test(text) ? ok(text) : reject(field, 'MALFORMED_ID', `id value of incorrect type: ${shown(text)}`);
}

function convertPicklist(field: SalesforceField, value: unknown): Converted {
  if (Array.isArray(value)) return notOfType(field, value);
  const chosen = pickValue(field, value);
  if (typeof chosen !== 'string') return chosen;
  return convertText(field, chosen);
}

function convertMultipicklist(field: SalesforceField, value: unknown): Converted {
  const items = Array.isArray(value) ? value : readText(value).split(';');
  const chosen: string[] = [];
  for (const item of items) {
    if (item === null || item === undefined || String(item).trim() === '') continue;
    const picked = pickValue(field, item);
    if (typeof picked !== 'string') return picked;
    if (!chosen.includes(picked)) chosen.push(picked);
  }
  return chosen.length === 0 ? ok(null) : convertText(field, chosen.join(';'));
}

/** The picklist's own value, by exact value, else by value or label ignoring case; restricted lists refuse others. */
function pickValue(field: SalesforceField, item: unknown): string | Converted {
  const text = readText(item).trim();
  const exact = field.picklistValues.find((p) => p.value === text);
  if (exact) return exact.value;
  const lower = text.toLowerCase();
  const loose = field.picklistValues.find((p) => p.value.toLowerCase() === lower || p.label.toLowerCase() === lower);
  if (loose) return loose.value;
  if (field.restrictedPicklist) {
    return reject(field, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `bad value for restricted picklist field: ${shown(text)}`);
  }
  return text;
}

/**
 * Whether a record already holds what the row would write, in Salesforce's terms: empty text and
 * null are one (Salesforce stores no empty strings), numbers by value at the field's scale (it
 * rounds on save), dates as days, date-times as instants to the second (its precision), checkboxes
 * as booleans, multi-select picklists as sets, ids by their 15-character form. Text and picklist
 * values compare exactly: a value differing in case is a change worth writing.
 */
export function sameSalesforceValue(field: SalesforceField, sent: SalesforceValue, held: unknown): boolean {
  const empty = (value: unknown) => value === null || value === undefined || value === '';
  if (field.type === 'boolean') return (sent === true) === (held === true || held === 'true');
  if (empty(sent) || empty(held)) return empty(sent) && empty(held);
  const text = readText(held);
  if (DECIMAL_TYPES.has(field.type) || field.type === 'int') {
    const tolerance = field.type === 'int' ? 0 : 10 ** -(field.scale > 0 ? field.scale : 0) / 2;
    return Math.abs(Number(sent) - Number(held)) <= tolerance + Number.EPSILON * Math.max(1, Math.abs(Number(sent)));
  }
  switch (field.type) {
    case 'date': return String(sent) === text.slice(0, 10);
    case 'datetime': {
      const [a, b] = [readInstant(sent), readInstant(text)];
      return a !== undefined && b !== undefined && Math.floor(a.getTime() / 1000) === Math.floor(b.getTime() / 1000);
    }
    case 'time': return String(sent).slice(0, 8) === text.slice(0, 8);
    // Options compare without the spaces that may surround them around the ";".
    case 'multipicklist': return sameOptionSet(String(sent).split(';').map((v) => v.trim()), text.split(';').map((v) => v.trim()));
    case 'reference':
    case 'id': return String(sent).slice(0, 15) === text.slice(0, 15);
    default: return String(sent) === text;
  }
}
