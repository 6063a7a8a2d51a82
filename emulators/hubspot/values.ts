// Per-type validation of property values as HubSpot applies it on write: every value is a string,
// "" clears, numbers are plain decimals, dates sit at midnight UTC, options match exactly.
import type { StoredProperty } from './types.js';

export interface ValueProblem {
  isValid: false;
  message: string;
  error: string;
  name: string;
  localizedErrorMessage?: string;
  propertyValue?: string;
  portalId?: number;
}

export const MAX_STRING = 65_536;

/**
 * The normalised value to store, or the problem HubSpot would report. Most problems carry the
 * localized message, the value and the portal (as recorded for INVALID_OPTION); an invalid email
 * is reported bare, as recorded.
 */
export function validateValue(property: StoredProperty | undefined, name: string, value: unknown, portalId: number): { value: string } | { problem: ValueProblem } {
  const problem = (error: string, message: string): { problem: ValueProblem } => {
    if (error === 'INVALID_EMAIL') return { problem: { isValid: false, message, error, name } };
    const propertyValue = typeof value === 'string' ? { propertyValue: value } : {};
    return { problem: { isValid: false, message, error, name, localizedErrorMessage: message, ...propertyValue, portalId } };
  };
  if (!property) return problem('PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`);
  if (property.readOnlyValue || property.calculated) return problem('READ_ONLY_VALUE', `${name} is a read only property; its value cannot be set.`);
  if (typeof value !== 'string') return problem('INVALID_VALUE_TYPE', `${JSON.stringify(value)} was not a string; property values must be strings`);
  if (value === '') return { value: '' };
  switch (property.type) {
    case 'number':
      return /^-?(\d+\.?\d*|\.\d+)$/.test(value) ? { value } : problem('INVALID_NUMBER', `${value} was not a valid number.`);
    case 'bool':
      return value === 'true' || value === 'false' ? { value } : problem('INVALID_BOOLEAN', `${value} was not a valid boolean ("true" or "false").`);
    case 'date':
      return validateDate(value, problem);
    case 'datetime':
      return validateDatetime(value, problem);
    case 'enumeration':
      return validateOptions(property, value, problem);
    default:
      if (value.length > MAX_STRING) return problem('STRING_TOO_LONG', `${name} is longer than ${MAX_STRING} characters.`);
      if (property.format === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) return problem('INVALID_EMAIL', `Email address ${value} is invalid`);
      // HubSpot keeps contact emails in lower case, so one address matches whatever its case.
      return { value: property.format === 'email' ? value.toLowerCase() : value };
  }
}

type Problem = (error: string, message: string) => { problem: ValueProblem };

function validateDate(value: string, problem: Problem) {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const time = Date.parse(`${value}T00:00:00Z`);
    return Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== value ? problem('INVALID_DATE', `${value} is not a valid date.`) : { value };
  }
  if (/^\d+$/.test(value)) {
    const date = new Date(Number(value));
    const time = date.toISOString().slice(11, 19);
    if (date.getUTCMilliseconds() !== 0 || time !== '00:00:00') return problem('INVALID_DATE', `${value} is at ${time} UTC, not midnight!`);
    return { value: date.toISOString().slice(0, 10) };
  }
  return problem('INVALID_DATE', `${value} is not a valid date.`);
}

function validateDatetime(value: string, problem: Problem) {
  const time = /^\d+$/.test(value) ? Number(value) : /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2}))?$/.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(time) ? problem('INVALID_DATETIME', `${value} is not a valid datetime.`) : { value: new Date(time).toISOString() };
}

function validateOptions(property: StoredProperty, value: string, problem: Problem) {
  const allowed = new Set((property.options ?? []).map((o) => o.value));
  const chosen = property.fieldType === 'checkbox' ? value.split(';') : [value];
  const bad = chosen.find((v) => !allowed.has(v));
  if (bad === undefined) return { value };
  const listing = (property.options ?? []).map((o) => o.value).join(', ');
  return problem('INVALID_OPTION', `${bad} was not one of the allowed options: [${listing}]`);
}
