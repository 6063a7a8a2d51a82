// Row → CRM field values, by the plan's explicit mapping or, without one, by matching column
// names against the object's writable fields. The key column is read here for every mode.
import type { AssociationPlan, StreamPlan } from '../config/stream-plan.js';
import type { MappedRow, ObjectWriter, Rejection, Values } from '../crm/destination.js';
import { rawJsonText } from '../raw-json.js';

export type MapResult = { ok: true; row: MappedRow } | { ok: false; rejection: Rejection };

export function mapRow(data: Values, plan: StreamPlan, writer: ObjectWriter, ignoredColumns?: Set<string>): MapResult {
  const key = readKey(data, plan.match.source);
  if (typeof key !== 'string') return { ok: false, rejection: key };
  const values: Values = {};
  if (plan.fields) {
    for (const { source, destination, when } of plan.fields) {
      if (!(source in data)) continue;
      // not_null never empties the CRM's field; if_empty would write the empty value only where it changes nothing.
      if (when !== undefined && when !== 'always' && isEmptyValue(data[source])) continue;
      values[destination] = data[source];
    }
  } else {
    for (const column in data) {
      if (writer.isWritableField(column)) values[column] = data[column];
      // The key column is sent as the match key even when no field of that name exists.
      else if (column !== plan.match.source && !plan.associations?.some((a) => a.source === column)) ignoredColumns?.add(column);
    }
  }
  for (const association of plan.associations ?? []) {
    // A row without the column leaves its links alone, as a missing column leaves a field alone.
    if (!(association.source in data)) continue;
    const keys = linkKeys(data[association.source], association);
    if (!Array.isArray(keys)) return { ok: false, rejection: keys };
    values[association.field] = keys;
  }
  return { ok: true, row: { key, values } };
}

/**
 * The target keys a row names, normalized so that only a real change of targets changes their
 * hash: trimmed, without duplicates, sorted (and lower-cased for emails, which HubSpot matches
 * without regard to case). null or empty: no targets.
 */
function linkKeys(value: unknown, association: AssociationPlan): string[] | Rejection {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(';') : value === null ? [] : [value];
  const keys = new Set<string>();
  for (const item of items) {
    if (item === null || item === undefined) continue;
    const text = typeof item === 'string' ? item : typeof item === 'number' || typeof item === 'bigint' ? String(item) : rawJsonText(item);
    if (text === undefined) {
      return { code: 'invalid_association_key', field: association.source, message: `the column "${association.source}" must hold ${association.to} keys (text, numbers, or an array of them)` };
    }
    const trimmed = text.trim();
    if (trimmed !== '') keys.add(association.match === 'email' ? trimmed.toLowerCase() : trimmed);
  }
  return [...keys].sort();
}

/** A value that would empty the CRM field: null, empty text, an empty list. */
function isEmptyValue(value: unknown): boolean {
  return value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
}

function readKey(data: Values, column: string): string | Rejection {
  const value = data[column];
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    return { code: 'missing_key', field: column, message: `the key column "${column}" is missing or empty` };
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  // An integer beyond 2^53 arrives as its text (raw JSON): two keys one apart stay two keys.
  const exact = rawJsonText(value);
  if (exact !== undefined) return exact;
  return { code: 'invalid_key', field: column, message: `the key column "${column}" must be a string or a number` };
}
