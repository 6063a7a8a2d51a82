// One Salesforce save result (sObject Collections) or result-file row (Bulk API 2.0) → one row
// outcome. A refused row keeps Salesforce's own code and message; an update or delete naming a
// record that does not exist (any more) is `not_found`, never an error of the row's data.
import type { Rejection, RowOutcome } from '../destination.js';

export type WriteKind = 'create' | 'update' | 'upsert' | 'delete';

export interface RecordError {
  statusCode: string;
  message: string;
  fields?: string[];
}

export interface SaveResult {
  id?: string | null;
  success: boolean;
  created?: boolean;
  errors?: RecordError[];
}

export const NOT_ACKNOWLEDGED: Rejection = {
  code: 'not_acknowledged',
  message: 'Salesforce answered no result for this row',
};

export function outcomeOf(kind: WriteKind, result: SaveResult): RowOutcome {
  if (result.success && result.id) {
    if (kind === 'delete') return { status: 'removed', id: result.id };
    const created = kind === 'create' || (kind === 'upsert' && result.created === true);
    return { status: created ? 'created' : 'updated', id: result.id };
  }
  const errors = result.errors ?? [];
  if ((kind === 'update' || kind === 'delete') && namesMissingRecord(errors)) return { status: 'not_found' };
  return { status: 'rejected', ...rejectionOf(errors) };
}

/** The record the row targets is gone or never was: not a problem of the row's values. */
function namesMissingRecord(errors: RecordError[]): boolean {
  const [first] = errors;
  if (!first) return false;
  if (first.statusCode === 'ENTITY_IS_DELETED') return true;
  const aboutTheRecord = (first.fields ?? []).every((f) => f === 'Id');
  return first.statusCode === 'INVALID_CROSS_REFERENCE_KEY' && aboutTheRecord;
}

export function rejectionOf(errors: RecordError[]): Rejection {
  if (errors.length === 0) return { code: 'SALESFORCE_ERROR', message: 'Salesforce refused the row without saying why' };
  const [first] = errors;
  const field = first.fields?.[0];
  return { code: first.statusCode, message: errors.map((e) => e.message).join('; '), ...(field ? { field } : {}) };
}

/**
 * Bulk API result files write a row's errors as `CODE:message:field1,field2 --`, one per line.
 * The message may itself hold colons; the fields never do.
 */
export function parseBulkErrors(text: string): RecordError[] {
  return text
    .split(/ --(?:\r?\n|$)/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const first = part.indexOf(':');
      const last = part.lastIndexOf(':');
      if (first < 0) return { statusCode: 'SALESFORCE_ERROR', message: part, fields: [] };
      if (last === first) return { statusCode: part.slice(0, first), message: part.slice(first + 1), fields: [] };
      const fields = part.slice(last + 1).split(',').map((f) => f.trim()).filter((f) => f !== '');
      return { statusCode: part.slice(0, first), message: part.slice(first + 1, last), fields };
    });
}
