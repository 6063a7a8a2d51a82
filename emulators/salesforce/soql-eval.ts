// Running a parsed query over stored records: SOQL's comparisons (text without regard to case,
// its own null rules), LIKE patterns and ORDER BY.
import type { FieldValue } from './field-validation.js';
import type { Condition, OrderItem } from './soql.js';
import type { SalesforceRecord } from './types.js';

function comparable(value: FieldValue): FieldValue {
  return typeof value === 'string' ? value.toLowerCase() : value;
}

function compare(left: FieldValue, op: string, right: FieldValue): boolean {
  // SOQL's null: "= null" finds empty fields, "!= x" includes them.
  if (left === null || right === null) return op === '=' ? left === right : op === '!=' ? left !== right : false;
  const [a, b] = [comparable(left), comparable(right)];
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a! < b!;
    case '<=':
      return a! <= b!;
    case '>':
      return a! > b!;
    default:
      return a! >= b!;
  }
}

function likeToRegExp(pattern: string): RegExp {
  const source = pattern
    .split(/(\\[_%]|[_%])/)
    .map((part) => (part === '%' ? '.*' : part === '_' ? '.' : part.replace(/^\\/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'is');
}

export function matches(record: SalesforceRecord, condition: Condition): boolean {
  switch (condition.kind) {
    case 'and':
      return condition.parts.every((p) => matches(record, p));
    case 'or':
      return condition.parts.some((p) => matches(record, p));
    case 'not':
      return !matches(record, condition.part);
    case 'compare':
      return compare(record[condition.field.name] as FieldValue, condition.op, condition.literal.value);
    case 'in': {
      const value = record[condition.field.name] as FieldValue;
      const found = condition.literals.some((l) => compare(value, '=', l.value));
      return condition.negated ? !found : found;
    }
    case 'like': {
      const value = record[condition.field.name];
      return typeof value === 'string' && likeToRegExp(condition.pattern).test(value);
    }
  }
}

function orderValue(a: FieldValue, b: FieldValue, item: OrderItem): number {
  if (a === null || b === null) {
    if (a === b) return 0;
    return (a === null) === item.nullsLast ? 1 : -1;
  }
  const [x, y] = [comparable(a), comparable(b)];
  const order = x! < y! ? -1 : x! > y! ? 1 : 0;
  return item.descending ? -order : order;
}

export function sortRecords(records: SalesforceRecord[], orderBy: OrderItem[]): SalesforceRecord[] {
  if (orderBy.length === 0) return records;
  return [...records].sort((r1, r2) => {
    for (const item of orderBy) {
      const order = orderValue(r1[item.field.name] as FieldValue, r2[item.field.name] as FieldValue, item);
      if (order !== 0) return order;
    }
    return 0;
  });
}
