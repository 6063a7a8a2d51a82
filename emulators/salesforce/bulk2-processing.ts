// What a Bulk API 2.0 ingest job does once its upload is complete: read the CSV strictly, map the
// header to fields, write the rows in chunks of 200 (each row on its own: no all-or-none), and keep
// the rows for the successful / failed / unprocessed result files. Like the platform, processing
// runs in the background: other requests are served between chunks, and an abort stops it.
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { prepareBatch, type WriteKind, type WriteResult, type WriteRow } from './dml.js';
import { bulkErrorText, type RecordError } from './errors.js';
import { coerceCsvValue, type FieldValue, UNCHANGED } from './field-validation.js';
import { type FieldMeta, findField, type ObjectMeta, type Org } from './org.js';
import { lookupByRelationship, type ParentKey, parentKey, RelationshipProblem, resolveParent } from './relationships.js';

export type BulkOperation = 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete';

export const COLUMN_DELIMITERS: Record<string, string> = {
  COMMA: ',',
  TAB: '\t',
  PIPE: '|',
  SEMICOLON: ';',
  CARET: '^',
  BACKQUOTE: '`',
};

export const LINE_ENDINGS: Record<string, string> = { LF: '\n', CRLF: '\r\n' };

const CHUNK_SIZE = 200;

export interface JobSpec {
  object: ObjectMeta;
  operation: BulkOperation;
  externalIdField?: FieldMeta;
  lineEnding: string;
  columnDelimiter: string;
}

export interface JobOutcome {
  /** Set when the job as a whole failed; no row was written then. */
  errorMessage?: string;
  processed: number;
  failed: number;
  successfulCsv: string;
  failedCsv: string;
  unprocessedCsv: string;
}

/** Thrown while reading the upload: the job fails with this message. */
class JobFailure extends Error {}

function toCsv(rows: string[][]): string {
  return stringify(rows.filter((row) => row.length > 0), { quoted: true, quoted_empty: true, record_delimiter: '\n' });
}

function checkLineEnding(csv: string, lineEnding: string): void {
  const firstBreak = csv.indexOf('\n');
  const usesCrlf = firstBreak > 0 && csv[firstBreak - 1] === '\r';
  if (firstBreak >= 0 && usesCrlf !== (lineEnding === 'CRLF')) {
    throw new JobFailure(`ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is ${lineEnding}`);
  }
}

function readCsv(csv: string, spec: JobSpec): string[][] {
  checkLineEnding(csv, spec.lineEnding);
  try {
    return parse(csv, {
      delimiter: COLUMN_DELIMITERS[spec.columnDelimiter],
      record_delimiter: LINE_ENDINGS[spec.lineEnding],
      relax_quotes: false,
      relax_column_count: false,
    }) as string[][];
  } catch (error) {
    throw new JobFailure(`InvalidBatch : Failed to parse CSV. ${(error as Error).message}`);
  }
}

/** A CSV column: the field it sets, and for `Account__r.Key__c` columns how the parent is found. */
interface Column {
  field: FieldMeta;
  parent?: ParentKey;
}

/** RelationshipName.KeyField, or ParentType:RelationshipName.KeyField for a polymorphic lookup. */
const RELATIONSHIP_COLUMN = /^(?:([A-Za-z][A-Za-z0-9_]*):)?([A-Za-z][A-Za-z0-9_]*)\.([A-Za-z][A-Za-z0-9_]*)$/;

function headerColumns(org: Org, header: string[], object: ObjectMeta): Column[] {
  const seen = new Set<FieldMeta>();
  return header.map((name) => {
    const column = headerColumn(org, name, object);
    if (seen.has(column.field)) throw new JobFailure(`InvalidBatch : Duplicate field name: ${name}`);
    seen.add(column.field);
    return column;
  });
}

function headerColumn(org: Org, name: string, object: ObjectMeta): Column {
  const field = findField(object, name);
  if (field) return { field };
  const [, type, relationship, key] = RELATIONSHIP_COLUMN.exec(name) ?? [];
  const lookup = relationship ? lookupByRelationship(object, relationship) : undefined;
  if (!lookup) throw new JobFailure(`InvalidBatch : Field name not found : ${name}`);
  try {
    return { field: lookup, parent: parentKey(org, lookup, type, key) };
  } catch (error) {
    if (error instanceof RelationshipProblem) throw new JobFailure(`InvalidBatch : ${error.message}`);
    throw error;
  }
}

/** Whether the Id column names the row's target rather than being a field the row sets. */
function idIsTarget(spec: JobSpec): boolean {
  return spec.operation !== 'upsert' || spec.externalIdField?.name === 'Id';
}

function toWriteRow(org: Org, cells: string[], columns: Column[], spec: JobSpec): WriteRow {
  const row: WriteRow = { values: new Map() };
  columns.forEach(({ field, parent }, i) => {
    const cell = cells[i];
    if (field.name === 'Id') {
      // In an upsert keyed on another field an Id column is ignored, as empty as jsforce sends it.
      if (idIsTarget(spec) && cell !== '') row.id = cell;
      return;
    }
    if (spec.operation === 'delete' || spec.operation === 'hardDelete') return;
    const value = parent ? parentId(org, parent, cell) : coerceCsvValue(field, cell);
    if (value === UNCHANGED) return;
    if (typeof value === 'object' && value !== null) row.error ??= value;
    else row.values.set(field, value);
  });
  return row;
}

/** A relationship cell: the parent's id, UNCHANGED when empty, null for #N/A, or the row's error. */
function parentId(org: Org, parent: ParentKey, cell: string): FieldValue | typeof UNCHANGED | RecordError {
  const key = coerceCsvValue(parent.key, cell);
  if (key === UNCHANGED || key === null || typeof key === 'object') return key;
  return resolveParent(org, parent, key);
}

function writeKind(operation: BulkOperation): WriteKind {
  return operation === 'hardDelete' ? 'delete' : operation;
}

/** Writes chunk after chunk, yielding to the server between them, until done or told to stop. */
async function writeInChunks(org: Org, spec: JobSpec, rows: WriteRow[], stopped: () => boolean): Promise<WriteResult[]> {
  const results: WriteResult[] = [];
  for (let start = 0; start < rows.length && !stopped(); start += CHUNK_SIZE) {
    const chunk = rows.slice(start, start + CHUNK_SIZE);
    const options = { externalIdField: spec.externalIdField };
    results.push(...prepareBatch(org, spec.object, writeKind(spec.operation), chunk, options).commit());
    await new Promise((resolve) => setImmediate(resolve));
  }
  return results;
}

function createdFlag(spec: JobSpec, result: WriteResult): string {
  if (spec.operation === 'insert') return 'true';
  return String(result.created === true);
}

function noRowsWritten(header: string[], unprocessed: string[][]): JobOutcome {
  return {
    processed: 0,
    failed: 0,
    successfulCsv: toCsv([['sf__Id', 'sf__Created', ...header]]),
    failedCsv: toCsv([['sf__Id', 'sf__Error', ...header]]),
    unprocessedCsv: toCsv([header, ...unprocessed]),
  };
}

/** Rows of an upload that was never processed (an aborted job); an unreadable upload has none. */
export function unprocessedOutcome(csv: string | undefined, spec: JobSpec): JobOutcome {
  try {
    const [header = [], ...rows] = csv ? readCsv(csv, spec) : [];
    return noRowsWritten(header, rows);
  } catch {
    return noRowsWritten([], []);
  }
}

/** Processes the upload; rows not reached before `stopped` (an abort) are reported unprocessed. */
export async function processUpload(org: Org, spec: JobSpec, csv: string | undefined, stopped: () => boolean = () => false): Promise<JobOutcome> {
  let header: string[] = [];
  let rows: string[][] = [];
  try {
    [header = [], ...rows] = csv ? readCsv(csv, spec) : [];
    const columns = headerColumns(org, header, spec.object);
    const results = await writeInChunks(org, spec, rows.map((cells) => toWriteRow(org, cells, columns, spec)), stopped);
    return summarize(spec, header, rows, results);
  } catch (error) {
    if (!(error instanceof JobFailure)) throw error;
    return { ...noRowsWritten(header, rows), errorMessage: error.message };
  }
}

/**
 * The platform processes a job's chunks in parallel, so its result files list records in no
 * particular order; here the chunks are listed last to first, so a client that relies on input
 * order is caught.
 */
function summarize(spec: JobSpec, header: string[], rows: string[][], results: WriteResult[]): JobOutcome {
  const successful = [['sf__Id', 'sf__Created', ...header]];
  const failed = [['sf__Id', 'sf__Error', ...header]];
  for (const i of resultOrder(results.length)) {
    const result = results[i];
    if (result.success) successful.push([result.id!, createdFlag(spec, result), ...rows[i]]);
    else failed.push([result.id ?? '', bulkErrorText(result.errors), ...rows[i]]);
  }
  return {
    processed: results.length,
    failed: failed.length - 1,
    successfulCsv: toCsv(successful),
    failedCsv: toCsv(failed),
    unprocessedCsv: toCsv([header, ...rows.slice(results.length)]),
  };
}

function resultOrder(count: number): number[] {
  const order: number[] = [];
  for (let start = Math.floor((count - 1) / CHUNK_SIZE) * CHUNK_SIZE; start >= 0; start -= CHUNK_SIZE) {
    for (let i = start; i < Math.min(count, start + CHUNK_SIZE); i++) order.push(i);
  }
  return order;
}
