// CRM-neutral reading of warehouse values: what a row may hold for a date, a timestamp, a number
// or a boolean, read once here so HubSpot and Salesforce agree on what counts as valid.
// Each reader answers the normalised value, or undefined when the value cannot be read.

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

/** A plain decimal string (no exponent, no thousands separators), from a number or a string. */
export function readDecimal(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? plainDecimal(value) : undefined;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) return text.replace(/^\+/, '');
  if (/^[+-]?(\d+\.?\d*|\.\d+)e[+-]?\d+$/i.test(text)) return plainDecimal(Number(text));
  return undefined;
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
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Whether two multi-select values (options joined with ";") hold the same options, in any order. */
export function sameOptionSet(a: string[], b: string[]): boolean {
  const left = new Set(a.filter(Boolean));
  const right = new Set(b.filter(Boolean));
  return left.size === right.size && [...left].every((value) => right.has(value));
}
