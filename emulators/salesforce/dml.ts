// The write engine shared by sObject Collections and Bulk API 2.0: one batch of rows is checked
// (target record, writable fields, values, required fields, uniqueness) and then applied, all of
// it or only the valid rows. Callers turn their input (JSON records, CSV rows) into WriteRows.
import { recordError, type RecordError } from './errors.js';
import {
  finalizeValue,
  type FieldValue,
  missingRequired,
  type Operation,
  unwritableFields,
} from './field-validation.js';
import { normalizeId } from './ids.js';
import { comparable, type FieldMeta, findField, type ObjectMeta, type Org, sfTimestamp } from './org.js';
import type { SalesforceRecord } from './types.js';

export type WriteKind = 'insert' | 'update' | 'upsert' | 'delete';

export interface WriteRow {
  /** A problem found while reading the row; the row fails with it and is not looked at further. */
  error?: RecordError;
  values: Map<FieldMeta, FieldValue>;
  /** The record id the row names (update, delete; on insert its presence is an error). */
  id?: string;
}

export interface WriteResult {
  id?: string;
  success: boolean;
  created?: boolean;
  errors: RecordError[];
}

export interface WriteOptions {
  /** Upsert only: the field that matches rows to records. */
  externalIdField?: FieldMeta;
}

interface Planned {
  row: WriteRow;
  operation?: Operation | 'delete';
  existingId?: string;
  /** The id to report even when the row fails (a well-formed id naming a record). */
  reportedId?: string;
  values: Map<FieldMeta, FieldValue>;
  error?: RecordError;
}

const ROLLED_BACK = recordError(
  'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  'Record rolled back because not all records were valid and the request was using AllOrNone header',
);

class BatchWriter {
  private readonly table: ReadonlyMap<string, SalesforceRecord>;

  constructor(
    private readonly org: Org,
    private readonly meta: ObjectMeta,
    private readonly kind: WriteKind,
    private readonly options: WriteOptions,
  ) {
    this.table = org.table(meta);
  }

  check(rows: WriteRow[]): PreparedBatch {
    const plans = rows.map((row) => (row.error ? { row, values: row.values, error: row.error } : this.plan(row)));
    if (this.kind === 'upsert') this.refuseRepeatedKeys(plans);
    for (const plan of plans) if (!plan.error && plan.operation !== 'delete') this.validateValues(plan);
    this.checkUniqueness(plans);
    return {
      failed: plans.some((p) => p.error),
      commit: () => plans.map((p) => (p.error ? this.result(p, p.error) : this.apply(p))),
      rollBack: () => plans.map((p) => this.result(p, p.error ?? ROLLED_BACK)),
    };
  }

  private plan(row: WriteRow): Planned {
    const planned = this.planTarget(row);
    if (!planned.error && !this.permits(planned.operation)) {
      planned.error = recordError('INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id');
    }
    return planned;
  }

  private planTarget(row: WriteRow): Planned {
    if (this.kind === 'insert') return this.planInsert(row);
    if (this.kind === 'upsert') return this.planUpsert(row);
    return this.planExisting(row, this.kind === 'delete' ? 'delete' : 'update');
  }

  private permits(operation: Planned['operation']): boolean {
    if (operation === 'create') return this.meta.createable;
    return operation === 'delete' ? this.meta.deletable : this.meta.updateable;
  }

  private planInsert(row: WriteRow): Planned {
    if (row.id) {
      return { row, values: row.values, error: recordError('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', ['Id']) };
    }
    return { row, values: row.values, operation: 'create' };
  }

  private planExisting(row: WriteRow, operation: Operation | 'delete'): Planned {
    const planned: Planned = { row, values: row.values, operation };
    if (!row.id) {
      const verb = operation === 'delete' ? 'delete' : 'update';
      return { ...planned, error: recordError('MISSING_ARGUMENT', `Id not specified in an ${verb} call`) };
    }
    const id = normalizeId(row.id);
    if (!id) return { ...planned, error: recordError('MALFORMED_ID', `malformed id ${row.id}`) };
    if (this.org.objectOfId(id) !== this.meta) {
      return { ...planned, error: recordError('MALFORMED_ID', `${this.meta.label} ID: id value of incorrect type: ${row.id}`, ['Id']) };
    }
    if (this.table.has(id)) return { ...planned, existingId: id, reportedId: id };
    if (this.org.wasDeleted(id)) return { ...planned, reportedId: id, error: recordError('ENTITY_IS_DELETED', 'entity is deleted') };
    return { ...planned, error: recordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id') };
  }

  private planUpsert(row: WriteRow): Planned {
    const keyField = this.options.externalIdField!;
    if (keyField.name === 'Id') return row.id ? this.planExisting(row, 'update') : { row, values: row.values, operation: 'create' };
    const key = row.values.get(keyField);
    if (key === undefined || key === null || key === '') {
      return { row, values: row.values, error: recordError('MISSING_ARGUMENT', `${keyField.name} not specified`) };
    }
    const matches = this.recordsWith(keyField, key);
    if (matches.length > 1) {
      const ids = matches.map((r) => r.Id).join(', ');
      return {
        row,
        values: row.values,
        error: recordError('DUPLICATE_EXTERNAL_ID', `${keyField.label}: more than one record found for external id field: [${ids}]`, [keyField.name]),
      };
    }
    if (matches.length === 0) return { row, values: row.values, operation: 'create' };
    const existingId = String(matches[0].Id);
    return { row, values: row.values, operation: 'update', existingId, reportedId: existingId };
  }

  /** Stored records holding a value (nothing is written while checking: the batch sees the table as it was). */
  private recordsWith(field: FieldMeta, value: FieldValue): SalesforceRecord[] {
    return this.org.recordsWith(this.meta, field, value);
  }

  /** Two rows of one upsert naming the same key: Salesforce refuses both. */
  private refuseRepeatedKeys(plans: Planned[]): void {
    const keyField = this.options.externalIdField!;
    if (keyField.name === 'Id') return;
    const counts = new Map<FieldValue, number>();
    const keyOf = (p: Planned) => comparable(keyField, p.values.get(keyField) ?? null);
    for (const p of plans) if (!p.error) counts.set(keyOf(p), (counts.get(keyOf(p)) ?? 0) + 1);
    for (const p of plans) {
      if (p.error || (counts.get(keyOf(p)) ?? 0) < 2) continue;
      p.error = recordError('DUPLICATE_EXTERNAL_ID', `Duplicate external id specified: ${p.values.get(keyField)}`, [keyField.name]);
    }
  }

  private validateValues(plan: Planned): void {
    const operation = plan.operation as Operation;
    const finalized = new Map<FieldMeta, FieldValue>();
    plan.error = unwritableFields([...plan.values.keys()], operation) ?? missingRequired(this.meta, plan.values, operation);
    for (const [field, value] of plan.values) {
      if (plan.error) return;
      const checked = finalizeValue(field, value, (id) => this.org.objectOfId(id));
      if (isRecordError(checked)) plan.error = checked;
      else finalized.set(field, checked);
    }
    plan.values = finalized;
  }

  /** Unique fields: a value already held by another record, or by an earlier row of this batch. */
  private checkUniqueness(plans: Planned[]): void {
    const uniqueFields = this.meta.fields.filter((f) => f.unique);
    for (const field of uniqueFields) {
      const claimed = new Set<FieldValue>();
      for (const plan of plans) {
        const value = plan.error || !plan.values.has(field) ? null : comparable(field, plan.values.get(field)!);
        if (value === null || value === '') continue;
        plan.error = this.duplicateOf(field, value, plan.existingId) ?? (claimed.has(value) ? duplicateInBatch() : undefined);
        claimed.add(value);
      }
    }
  }

  private duplicateOf(field: FieldMeta, value: FieldValue, ownId: string | undefined): RecordError | undefined {
    const holder = this.recordsWith(field, value).find((r) => r.Id !== ownId);
    if (!holder) return undefined;
    const id15 = String(holder.Id).slice(0, 15);
    return recordError('DUPLICATE_VALUE', `duplicate value found: ${field.name} duplicates value on record with id: ${id15}`);
  }

  private result(plan: Planned, error: RecordError): WriteResult {
    const result: WriteResult = { success: false, errors: [error] };
    if (plan.reportedId) result.id = plan.reportedId;
    if (this.kind === 'upsert') result.created = false;
    return result;
  }

  private apply(plan: Planned): WriteResult {
    const now = sfTimestamp(new Date());
    let id: string;
    if (plan.operation === 'delete') {
      id = plan.existingId!;
      this.org.markDeleted(this.meta, id);
    } else if (plan.operation === 'create') {
      id = this.insertRecord(plan.values, now);
    } else {
      id = plan.existingId!;
      this.updateRecord(id, plan.values, now);
    }
    const result: WriteResult = { id, success: true, errors: [] };
    if (this.kind === 'upsert') result.created = plan.operation === 'create';
    return result;
  }

  private insertRecord(values: Map<FieldMeta, FieldValue>, now: string): string {
    const id = this.org.ids.next(this.meta.keyPrefix);
    this.org.insertRecord(this.meta, newRecord(this.meta, { id, userId: this.org.userId, now }, values));
    return id;
  }

  private updateRecord(id: string, values: Map<FieldMeta, FieldValue>, now: string): void {
    const record = this.table.get(id)!;
    this.org.updateRecord(this.meta, record, values);
    Object.assign(record, { LastModifiedDate: now, SystemModstamp: now, LastModifiedById: this.org.userId });
  }
}

function duplicateInBatch(): RecordError {
  return recordError('DUPLICATE_VALUE', 'duplicate value found: <unknown> duplicates value on record with id: <unknown>');
}

function isRecordError(value: unknown): value is RecordError {
  return typeof value === 'object' && value !== null && 'statusCode' in value;
}

/** A record as the platform creates it: every field present, system fields filled in. */
export function newRecord(
  meta: ObjectMeta,
  origin: { id: string; userId: string; now: string },
  values: Iterable<[FieldMeta, FieldValue]>,
): SalesforceRecord {
  const record: SalesforceRecord = {};
  for (const field of meta.fields) record[field.name] = field.type === 'boolean' ? false : null;
  const { id, userId, now } = origin;
  Object.assign(record, { Id: id, OwnerId: userId, CreatedById: userId, LastModifiedById: userId });
  Object.assign(record, { CreatedDate: now, LastModifiedDate: now, SystemModstamp: now });
  for (const [field, value] of values) record[field.name] = value;
  // A custom object's Name left empty on create becomes the record id.
  if (meta.custom && findField(meta, 'Name') && record.Name === null) record.Name = id;
  return record;
}

/**
 * A checked batch, not yet applied: callers that write several batches as one unit (a collection
 * request mixing objects) check them all before deciding to commit or roll back every one.
 */
export interface PreparedBatch {
  failed: boolean;
  /** Applies the valid rows; the others report their error. */
  commit(): WriteResult[];
  /** Applies nothing; the valid rows report ALL_OR_NONE_OPERATION_ROLLED_BACK. */
  rollBack(): WriteResult[];
}

export function prepareBatch(org: Org, meta: ObjectMeta, kind: WriteKind, rows: WriteRow[], options: WriteOptions): PreparedBatch {
  return new BatchWriter(org, meta, kind, options).check(rows);
}

/** Commits or rolls back prepared batches together, as allOrNone asks. */
export function settle(batches: PreparedBatch[], allOrNone: boolean): WriteResult[][] {
  const rollBack = allOrNone && batches.some((b) => b.failed);
  return batches.map((b) => (rollBack ? b.rollBack() : b.commit()));
}
