// CRM-neutral reading of warehouse values: what a row may hold for a date, a timestamp, a number
// or a boolean, read once here so HubSpot and Salesforce agree on what counts as valid.
// Each reader answers the normalised value, or undefined when the value cannot be read.
import { rawJsonText } from '../raw-json.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// A timestamp without a zone is read as UTC: warehouses store UTC by convention.
const DATETIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC)?$/i;

/** `YYYY-MM-DD`, from a date string, a midnight-UTC timestamp or epoch milliseconds at midnight. */
export function readDate(value: unknown): { date: string } | { notMidnight: string } | undefined {
  if (typeof value === 'string' && DATE.test(value.trim())) return isCalendarDate(value.trim()) ? { date: value.trim() } : undefined;
  const instant = readInstant(value);
  if (!instant) return undefined;
  const iso = instant.toISOString();
  const time = iso.slice(11, 19);
  return time === '00:00:00' && instant.getUTCMilliseconds() === 0 ? { date: iso.slice(0, 10) } : { notMidnight: time };
}

/** A point in time from an ISO-8601 string (zone optional, UTC assumed), a date, or epoch ms. */
export function readInstant(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === 'number') return Number.isFinite(value) ? new Date(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (DATE.test(text)) return isCalendarDate(text) ? new Date(`${text}T00:00:00Z`) : undefined;
  if (/^\d{12,14}$/.test(text)) return new Date(Number(text));
  const match = DATETIME.exec(text);
  if (!match || !isCalendarDate(match[1])) return undefined;
  const [, day, hh, mm, ss = '00', fraction = '', zone = 'Z'] = match;
  const offset = zone.toUpperCase() === 'UTC' || zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const parsed = new Date(`${day}T${hh}:${mm}:${ss}${fraction.slice(0, 4)}${offset}`);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

function isCalendarDate(text: string): boolean {
  const [y, m, d] = text.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/**
 * A number read exactly from the input (a raw JSON value: more digits than a double holds) as its
 * text, which every reader below takes like a numeric string; any other value as it is.
 */
export function exactScalar(value: unknown): unknown {
  return rawJsonText(value) ?? value;
}

/** A plain decimal string (no exponent, no thousands separators), from a number or a string, with every digit of a string. */
export function readDecimal(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? plainDecimal(value) : undefined;
  if (typeof value === 'bigint') return value.toString();
  const text = typeof value === 'string' ? value.trim() : rawJsonText(value);
  if (text === undefined) return undefined;
  if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) return text.replace(/^\+/, '');
  const scientific = /^([+-]?)(\d*)\.?(\d*)e([+-]?\d+)$/i.exec(text);
  return scientific && `${scientific[2]}${scientific[3]}` !== '' ? shiftDecimalPoint(scientific) : undefined;
}

/** Past this exponent a value is no number a CRM field holds (and its digits would fill memory). */
const MAX_EXPONENT = 400;

/** `1.25e3` → `1250`, digit for digit: no detour through a double. */
function shiftDecimalPoint([, sign, whole, fraction, exponentText]: RegExpExecArray): string | undefined {
  const exponent = Number(exponentText);
  if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
  const digits = whole + fraction;
  const point = whole.length + exponent;
  const text = point <= 0 ? `0.${'0'.repeat(-point)}${digits}`
    : point >= digits.length ? digits + '0'.repeat(point - digits.length)
      : `${digits.slice(0, point)}.${digits.slice(point)}`;
  const [integer, decimals = ''] = text.split('.');
  const trimmedInteger = integer.replace(/^0+(?=\d)/, '');
  const trimmedDecimals = decimals.replace(/0+$/, '');
  const plain = trimmedDecimals ? `${trimmedInteger}.${trimmedDecimals}` : trimmedInteger;
  return sign === '-' && /[1-9]/.test(plain) ? `-${plain}` : plain;
}

/** Whether two plain decimal texts are the same number, exactly (1.50 and 1.5 are; no rounding through a double). */
export function sameDecimal(a: string, b: string): boolean {
  const [left, right] = [canonicalDecimal(a), canonicalDecimal(b)];
  return left !== undefined && right !== undefined ? left === right : Number(a) === Number(b);
}

function canonicalDecimal(text: string): string | undefined {
  const plain = readDecimal(text);
  if (plain === undefined) return undefined;
  const negative = plain.startsWith('-');
  const [integer, decimals = ''] = plain.replace(/^-/, '').split('.');
  const digits = `${integer.replace(/^0+(?=\d)/, '') || '0'}${decimals.replace(/0+$/, '') ? `.${decimals.replace(/0+$/, '')}` : ''}`;
  return negative && digits !== '0' ? `-${digits}` : digits;
}

function plainDecimal(n: number): string {
  const text = String(n);
  if (!/e/i.test(text)) return text;
  if (Number.isInteger(n)) return BigInt(n).toString();
  return n.toFixed(20).replace(/\.?0+$/, '');
}

const TRUE = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0']);

export function readBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  return undefined;
}

/** Scalars as text; objects and arrays as JSON, so nothing is silently lost. */
export function readText(value: unknown): string {
  if (typeof value === 'string') return value;
  const exact = rawJsonText(value);
  if (exact !== undefined) return exact;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Whether two multi-select values (options joined with ";") hold the same options, in any order. */
export function sameOptionSet(a: string[], b: string[]): boolean {
  const left = new Set(a.filter(Boolean));
  const right = new Set(b.filter(Boolean));
  return left.size === right.size && [...left].every((value) => right.has(value));
}
