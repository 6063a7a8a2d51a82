// Field values checked against the describe, as the real API does for both input forms:
// JSON bodies (a type mismatch fails the whole request while it is deserialized) and Bulk CSV cells
// (text; a bad value fails only its row). Stored values are normalized: numbers, booleans,
// YYYY-MM-DD dates, +0000 timestamps, 18-character ids.
import { ApiError, recordError, type RecordError } from './errors.js';
import { normalizeId } from './ids.js';
import { type FieldMeta, type ObjectMeta, sfTimestamp } from './org.js';

export type FieldValue = string | number | boolean | null;

/** A Bulk CSV cell left empty: the field keeps its value (or stays unset on insert). */
export const UNCHANGED = Symbol('unchanged');
/** What Bulk API 2.0 reads as "set this field to null". */
export const CSV_NULL = '#N/A';

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER_TEXT = /^[+-]?\d+$/;
const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_TEXT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})$/;
const EMAIL_TEXT = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const INT32_MAX = 2_147_483_647;

const TEXT_TYPES = new Set(['string', 'textarea', 'email', 'phone', 'url', 'picklist', 'multipicklist']);
const DECIMAL_TYPES = new Set(['double', 'currency', 'percent']);

function isRealDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function parseDate(text: string): string | undefined {
  const m = DATE_TEXT.exec(text);
  return m && isRealDate(+m[1], +m[2], +m[3]) ? text : undefined;
}

function parseDateTime(text: string): string | undefined {
  const m = DATETIME_TEXT.exec(text);
  if (!m || !isRealDate(+m[1], +m[2], +m[3]) || +m[4] > 23 || +m[5] > 59 || +(m[6] ?? 0) > 59) return undefined;
  const zone = m[7] === 'Z' ? 'Z' : m[7].replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
  const iso = text.slice(0, text.length - m[7].length) + zone;
  const parsed = new Date(iso);
  return Number.isNaN(parsed.getTime()) ? undefined : sfTimestamp(parsed);
}

/** Converts text to the field's stored form; undefined when the text is not of the field's type. */
function fromText(field: FieldMeta, text: string): FieldValue | undefined {
  if (TEXT_TYPES.has(field.type) || field.type === 'reference' || field.type === 'id') return text;
  if (DECIMAL_TYPES.has(field.type)) return NUMBER_TEXT.test(text.trim()) ? Number(text.trim()) : undefined;
  if (field.type === 'int') return INTEGER_TEXT.test(text.trim()) ? Number(text.trim()) : undefined;
  if (field.type === 'boolean') return { true: true, false: false }[text.trim().toLowerCase()];
  if (field.type === 'date') return parseDate(text);
  return parseDateTime(text);
}

function jsonTokenName(value: unknown): string {
  if (typeof value === 'string') return 'VALUE_STRING';
  if (typeof value === 'boolean') return value ? 'VALUE_TRUE' : 'VALUE_FALSE';
  if (typeof value === 'number') return Number.isInteger(value) ? 'VALUE_NUMBER_INT' : 'VALUE_NUMBER_FLOAT';
  return Array.isArray(value) ? 'START_ARRAY' : 'START_OBJECT';
}

function deserializeError(field: FieldMeta, value: unknown, position: string): ApiError {
  const shown = typeof value === 'object' ? (Array.isArray(value) ? '[' : '{') : String(value);
  return new ApiError(
    400,
    'JSON_PARSER_ERROR',
    `Cannot deserialize instance of ${field.type} from ${jsonTokenName(value)} value ${shown} or request may be missing a required field at ${position}`,
  );
}

function fromJson(field: FieldMeta, value: unknown): FieldValue | undefined {
  if (typeof value === 'string') return fromText(field, value);
  if (typeof value === 'number') {
    if (DECIMAL_TYPES.has(field.type)) return value;
    if (field.type === 'int') return Number.isInteger(value) ? value : undefined;
    return TEXT_TYPES.has(field.type) ? String(value) : undefined;
  }
  if (typeof value === 'boolean') {
    if (field.type === 'boolean') return value;
    return TEXT_TYPES.has(field.type) ? String(value) : undefined;
  }
  return undefined;
}

/**
 * A JSON value for a field, in stored form. Throws JSON_PARSER_ERROR (whole request) when the value
 * cannot be read as the field's type; `position` is Jackson's "[line:L, column:C]".
 */
export function coerceJsonValue(field: FieldMeta, value: unknown, position: () => string): FieldValue {
  if (value === null) return null;
  const coerced = fromJson(field, value);
  if (coerced === undefined) throw deserializeError(field, value, position());
  return coerced;
}

/** A Bulk CSV cell in stored form, UNCHANGED for an empty cell, or the row's error. */
export function coerceCsvValue(field: FieldMeta, text: string): FieldValue | typeof UNCHANGED | RecordError {
  if (text === '') return UNCHANGED;
  if (text === CSV_NULL) return null;
  // Bulk CSV reads booleans as XML Schema does, where 1 and 0 are also booleans.
  const coerced = field.type === 'boolean' && /^[01]$/.test(text.trim()) ? text.trim() === '1' : fromText(field, text);
  if (coerced !== undefined) return coerced;
  return recordError('INVALID_TYPE_ON_FIELD_IN_RECORD', `${field.label}: value not of required type: ${text}`, [field.name]);
}

function checkText(field: FieldMeta, text: string): RecordError | undefined {
  if (text.length > field.length) {
    return recordError('STRING_TOO_LONG', `${field.label}: data value too large: ${text} (max length=${field.length})`, [field.name]);
  }
  if (field.type === 'email' && !EMAIL_TEXT.test(text)) {
    return recordError('INVALID_EMAIL_ADDRESS', `${field.label}: invalid email address: ${text}`, [field.name]);
  }
  const choices = field.type === 'multipicklist' ? text.split(';') : [text];
  const bad = field.restrictedPicklist ? choices.find((c) => !field.picklistValues.includes(c)) : undefined;
  if (bad !== undefined) {
    return recordError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${field.label}: bad value for restricted picklist field: ${bad}`, [field.name]);
  }
  return undefined;
}

function outOfRange(field: FieldMeta, value: number): RecordError {
  return recordError('NUMBER_OUTSIDE_VALID_RANGE', `${field.label}: value outside of valid range on numeric field: ${value}`, [field.name]);
}

/** Decimals are rounded to the field's scale; the integer part may hold precision - scale digits. */
function checkNumber(field: FieldMeta, value: number): number | RecordError {
  if (field.type === 'int') {
    const maxDigits = field.digits || 9;
    return Math.abs(value) > INT32_MAX || String(Math.abs(value)).length > maxDigits ? outOfRange(field, value) : value;
  }
  const rounded = Number(value.toFixed(field.scale));
  const integerDigits = String(Math.trunc(Math.abs(rounded))).replace(/^0$/, '').length;
  return integerDigits > field.precision - field.scale ? outOfRange(field, value) : rounded;
}

function checkReference(field: FieldMeta, text: string, objectOfId: (id: string) => ObjectMeta | undefined): string | RecordError {
  const id = normalizeId(text);
  const target = id ? objectOfId(id) : undefined;
  const allowed = field.referenceTo.length === 0 || (target !== undefined && field.referenceTo.includes(target.name));
  if (id && target && allowed) return id;
  return recordError('MALFORMED_ID', `${field.label}: id value of incorrect type: ${text}`, [field.name]);
}

/** Value-level rules that apply to either input form; returns the value to store, or the error. */
export function finalizeValue(
  field: FieldMeta,
  value: FieldValue,
  objectOfId: (id: string) => ObjectMeta | undefined,
): FieldValue | RecordError {
  if (value === null) return field.type === 'boolean' ? false : null;
  if (typeof value === 'number') return checkNumber(field, value);
  if (typeof value !== 'string') return value;
  if (field.type === 'reference') return checkReference(field, value, objectOfId);
  return TEXT_TYPES.has(field.type) ? (checkText(field, value) ?? value) : value;
}

export type Operation = 'create' | 'update';

/** One error naming every field the operation may not set. */
export function unwritableFields(fields: FieldMeta[], operation: Operation): RecordError | undefined {
  const refused = fields.filter((f) => (operation === 'create' ? !f.createable : !f.updateable)).map((f) => f.name);
  if (refused.length === 0) return undefined;
  return recordError(
    'INVALID_FIELD_FOR_INSERT_UPDATE',
    `Unable to create/update fields: ${refused.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
    refused,
  );
}

function isRequiredOnCreate(field: FieldMeta): boolean {
  return field.createable && !field.nillable && !field.defaultedOnCreate;
}

/**
 * Fields that would end up empty although they may not be: on create the required ones left out
 * or null; on update any non-nillable one set to null.
 */
export function missingRequired(meta: ObjectMeta, values: Map<FieldMeta, FieldValue>, operation: Operation): RecordError | undefined {
  const missing =
    operation === 'create'
      ? meta.fields.filter((f) => isRequiredOnCreate(f) && (values.get(f) ?? null) === null)
      : [...values].filter(([f, v]) => v === null && !f.nillable && f.type !== 'boolean').map(([f]) => f);
  if (missing.length === 0) return undefined;
  const names = missing.map((f) => f.name);
  return recordError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${names.join(', ')}]`, names);
}
