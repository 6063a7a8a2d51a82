// Writes one stream's batches into one Salesforce object, through the mode table
// (../mode-writer.ts): rows match by Id, or by another idLookup field looked up with SOQL; upsert
// goes by the external id, archive deletes. Each send goes out through sObject Collections (200 a
// call) or, for large batches, as one Bulk API 2.0 job: `crm.api` rest | bulk | auto (bulk from
// `bulk_threshold` rows).
import type { StreamPlan } from '../../config/stream-plan.js';
import type { Logger } from '../../protocol/log.js';
import type { CrmComparison, MappedRow, ObjectWriter, PendingWrite, Prepared, RowOutcome } from '../destination.js';
import { ModeWriter, type CreateRefusal, type ModePort, type Outgoing, type SendKind } from '../mode-writer.js';
import { ObjectApi, type SalesforceApi } from './api.js';
import { BulkIngest } from './bulk.js';
import { COLLECTION_MAX, Collections, type RecordWrite } from './collections.js';
import { keyComparer, lookupIds, lookupRecords } from './lookup.js';
import type { WriteKind } from './outcomes.js';
import { findField, RECORD_ID, unwritableReason, type SalesforceField, type SalesforceObject } from './schema.js';
import { sameSalesforceValue, toSalesforceValue, type SalesforceValue } from './values.js';

export type ApiChoice = 'auto' | 'rest' | 'bulk';

export interface WriterSettings {
  api: ApiChoice;
  bulkThreshold: number;
}

/** Rows per write when Bulk API 2.0 may be used: a full batch is one job, a handful of calls. */
export const BULK_BATCH_ROWS = 10_000;
const ID_SHAPE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

type Values = Record<string, SalesforceValue>;

export class SalesforceObjectWriter implements ObjectWriter, ModePort {
  readonly maxBatchRows: number;
  readonly maxConcurrentWrites: number;
  /** The field the key is written to and matched by; undefined when matching by Id or by nothing. */
  private readonly keyField?: SalesforceField;
  private readonly byId: boolean;
  /** Insert matches by a field whose value identifies one record: existing keys are skipped, lost creates read back. */
  private readonly insertField?: SalesforceField;
  readonly insertKey?: string;
  readonly crm = 'Salesforce';
  readonly identifyingField = 'an external-id or unique field';
  readonly journalKey?: string;
  private readonly modes: ModeWriter;
  private readonly collections: Collections;
  private readonly bulk: BulkIngest;
  readonly findCreated?: (keys: string[]) => Promise<Map<string, string[]>>;
  /** SOQL sees a record once it is committed: only a request still under way when its run died may land later. */
  readonly createsFindableAfterMs: number;
  readonly journalsCreates: boolean;
  /** Set on the first read or write: every batch waits for the same check. */

  /** This object's view of the API, so the run report can give its own request count. */
  private readonly api: ObjectApi;

  constructor(
    api: SalesforceApi,
    private readonly object: SalesforceObject,
    private readonly plan: StreamPlan,
    private readonly settings: WriterSettings,
    log: Logger,
  ) {
    this.api = new ObjectApi(api);
    const destination = plan.match.destination;
    this.byId = destination !== undefined && destination.toLowerCase() === RECORD_ID.toLowerCase();
    this.keyField = destination && !this.byId ? findField(object, destination) : undefined;
    this.collections = new Collections(this.api, object, this.keyField?.name);
    const identifies = this.keyField !== undefined && (this.keyField.externalId || this.keyField.unique);
    this.insertField = plan.operation === 'insert' && identifies ? this.keyField : undefined;
    this.insertKey = this.insertField?.name;
    this.journalKey = this.insertField ? undefined : this.keyField?.name;
    this.modes = new ModeWriter(this, plan.operation);
    this.bulk = new BulkIngest(this.api, object, log, this.keyField?.name, plan.operation === 'insert' ? this.keyField?.name : undefined);
    if (this.keyField) this.findCreated = (keys) => this.findByKey(keys);
    // No wait by a key that identifies records: a create landing after the lookup makes the resend a DUPLICATE_VALUE, read back.
    this.createsFindableAfterMs = this.insertField ? 0 : this.api.requestTimeoutMs;
    this.journalsCreates = plan.operation === 'insert' && this.keyField !== undefined && !this.insertKey;
    if (settings.api === 'rest') {
      this.maxBatchRows = COLLECTION_MAX;
      this.maxConcurrentWrites = 4;
    } else {
      // With auto, a full batch must reach the threshold, or bulk would never be chosen.
      this.maxBatchRows = settings.api === 'auto' ? Math.max(BULK_BATCH_ROWS, settings.bulkThreshold) : BULK_BATCH_ROWS;
      this.maxConcurrentWrites = 2;
    }
  }

  requestCount(): number {
    return this.api.requests;
  }

  isWritableField(name: string): boolean {
    const field = findField(this.object, name);
    if (!field) return false;
    if (field === this.keyField || (this.byId && field.name === RECORD_ID)) return true;
    switch (this.plan.operation) {
      case 'insert': return !unwritableReason(field, 'insert');
      case 'update': return !unwritableReason(field, 'update');
      case 'upsert': return !unwritableReason(field, 'insert') && !unwritableReason(field, 'update');
      case 'archive': return false;
    }
  }

  canClear(name: string): boolean {
    const field = findField(this.object, name);
    return field === undefined || this.mayBeEmptied(field);
  }

  /** Salesforce refuses null for a required field, except on insert where it fills in a default. */
  private mayBeEmptied(field: SalesforceField): boolean {
    return field.nillable || field.type === 'boolean' || (this.plan.operation === 'insert' && field.defaultedOnCreate);
  }

  prepare(row: MappedRow): Prepared {
    const values: Values = {};
    for (const [name, raw] of Object.entries(row.values)) {
      const field = findField(this.object, name);
      if (!field) return { ok: false, rejection: { code: 'INVALID_FIELD', field: name, message: `No such column '${name}' on sobject of type ${this.object.name}` } };
      if (this.byId && field.name === RECORD_ID) continue;
      const converted = toSalesforceValue(field, raw);
      if (!converted.ok) return converted;
      if (converted.value === null && !this.mayBeEmptied(field)) {
        return { ok: false, rejection: { code: 'REQUIRED_FIELD_MISSING', field: field.name, message: `Required fields are missing: [${field.name}]` } };
      }
      values[field.name] = converted.value;
    }
    if (this.byId && !ID_SHAPE.test(row.key)) {
      return { ok: false, rejection: { code: 'MALFORMED_ID', field: RECORD_ID, message: `Record ID: id value of incorrect type: ${row.key}` } };
    }
    if (this.keyField) {
      const key = toSalesforceValue(this.keyField, row.key);
      if (!key.ok) return key;
      values[this.keyField.name] = key.value;
    }
    return { ok: true, values };
  }

  /** What prepare() converts by: the fields as described, how rows match, and the operation (required fields). */
  conversionFingerprint(): string {
    return JSON.stringify([this.plan.operation, this.byId, this.keyField?.name ?? null, this.object.fields]);
  }

  async write(rows: PendingWrite[]): Promise<RowOutcome[]> {
    return this.modes.write(rows);
  }

  /**
   * A run killed mid-job leaves its Bulk API job processing in Salesforce. Before this run reads
   * or writes the object, those jobs finish: else a lookup could miss rows they are about to
   * create, and the same rows would be created twice.
   */
  async start(): Promise<void> {
    if (this.settings.api !== 'rest') await this.bulk.awaitUnfinishedJobs();
  }

  // The mode table's port (ModePort): Salesforce's calls for it.

  get stopSignal(): AbortSignal {
    return this.api.stopSignal;
  }

  /** By Id the key is the record's id (a missing record is not_found in the save result); else SOQL on the key field. */
  async lookup(rows: PendingWrite[]): Promise<string[][]> {
    if (this.byId) return rows.map((row) => [row.key]);
    const held = await lookupIds(this.api, this.object, this.keyField!, rows.map((row) => this.keyValue(row)));
    return rows.map((row) => held.get(this.compareKey(row)) ?? []);
  }

  send(kind: SendKind, items: Outgoing[]): Promise<RowOutcome[]> {
    switch (kind) {
      case 'create': return this.sendRecords('create', items.map(({ row }) => ({ values: this.withKey(row) })));
      case 'update': return this.sendRecords('update', items.map(({ id, values }) => ({ id, values: (values ?? {}) as Values })));
      case 'upsert': return this.sendRecords('upsert', items.map(({ row }) => ({ values: this.withKey(row) })));
      case 'remove': return this.sendRecords('delete', items.map(({ id }) => ({ id, values: {} })));
    }
  }

  /** Salesforce refuses each row whose value the key field already holds (unique or external-id field). */
  createRefusal(outcome: RowOutcome): CreateRefusal | undefined {
    const taken = outcome.status === 'rejected' && outcome.code === 'DUPLICATE_VALUE' && outcome.message.includes(this.insertField!.name);
    return taken ? 'key_taken' : undefined;
  }

  changes(row: PendingWrite): Values {
    const values = { ...(row.values as Values) };
    if (this.keyField) delete values[this.keyField.name];
    return values;
  }

  ambiguous(row: PendingWrite, ids: string[]): RowOutcome {
    return {
      status: 'rejected', code: 'DUPLICATE_EXTERNAL_ID', field: this.keyField!.name,
      message: `${this.keyField!.label}: more than one record found for ${this.keyField!.name} ${this.keyValue(row)}: [${ids.join(', ')}]`,
    };
  }

  /** Row key → ids of the records whose key field holds its value (after any job a killed run left). */
  private async findByKey(keys: string[]): Promise<Map<string, string[]>> {
    const rows = keys.map((key) => ({ key, values: {} }));
    const held = await this.lookup(rows);
    const found = new Map<string, string[]>();
    rows.forEach((row, i) => {
      if (held[i].length > 0) found.set(row.key, held[i]);
    });
    return found;
  }

  /**
   * Reads the rows' records (by Id or by the key field, with the SOQL lookup) and names, per row,
   * the fields whose value Salesforce holds differently. A key held by several records counts as
   * changed in every field, so the write reports it.
   */
  async compareWithCrm(rows: PendingWrite[]): Promise<CrmComparison[]> {
    const field = this.byId ? findField(this.object, RECORD_ID) : this.keyField;
    if (!field) return rows.map(() => ({ found: false }));
    const names = [...new Set(rows.flatMap((row) => Object.keys(row.values)))]
      .filter((name) => name !== field.name && findField(this.object, name) !== undefined);
    const keyOf = (row: PendingWrite) => (this.byId ? row.key : this.keyValue(row));
    const compare = keyComparer(field);
    const records = await lookupRecords(this.api, this.object, field, rows.map(keyOf), names);
    return rows.map((row): CrmComparison => {
      const held = records.get(compare(keyOf(row))) ?? [];
      if (held.length === 0) return { found: false };
      const sent = Object.entries(row.values as Values).filter(([name]) => name !== field.name);
      const changed = sent
        .filter(([name, value]) => held.length > 1 || !sameSalesforceValue(findField(this.object, name)!, value, held[0][findField(this.object, name)!.name]))
        .map(([name]) => name);
      return { found: true, changed };
    });
  }

  private sendRecords(kind: WriteKind, records: RecordWrite[]): Promise<RowOutcome[]> {
    if (records.length === 0) return Promise.resolve([]);
    const bulk = this.settings.api === 'bulk' || (this.settings.api === 'auto' && records.length >= this.settings.bulkThreshold);
    return bulk ? this.bulk.write(kind, records) : this.collections.write(kind, records);
  }

  /** The key as the key field holds it (converted in prepare; recomputed, as change detection may drop it from the values). */
  keyValue(row: PendingWrite): string {
    const converted = toSalesforceValue(this.keyField!, row.key);
    return converted.ok && typeof converted.value === 'string' ? converted.value : row.key;
  }

  private compareKey(row: PendingWrite): string {
    return keyComparer(this.keyField!)(this.keyValue(row));
  }

  private withKey(row: PendingWrite): Values {
    const values = { ...(row.values as Values) };
    if (this.keyField) values[this.keyField.name] = this.keyValue(row);
    return values;
  }
}
