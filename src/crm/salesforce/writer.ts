// Writes one stream's batches into one Salesforce object, through the mode table
// (../mode-writer.ts): rows match by Id, or by another idLookup field looked up with SOQL; upsert
// goes by the external id, archive deletes. Each send goes out through sObject Collections (200 a
// call) or, for large batches, as one Bulk API 2.0 job: `crm.api` rest | bulk | auto (bulk from
// `bulk_threshold` rows).
import { fieldsWritten, type StreamPlan } from '../../config/stream-plan.js';
import type { Logger } from '../../protocol/log.js';
import type { CrmComparison, MappedRow, ObjectWriter, PendingWrite, Prepared, RowOutcome } from '../destination.js';
import { ModeWriter, type CreateRefusal, type HeldRecord, type ModePort, type Outgoing, type SendKind } from '../mode-writer.js';
import { ObjectApi, type SalesforceApi } from './api.js';
import { BulkIngest } from './bulk.js';
import { COLLECTION_MAX, Collections, type RecordWrite } from './collections.js';
import { keyComparer, lookupIds, lookupRecords } from './lookup.js';
import type { WriteKind } from './outcomes.js';
import { type ParentLinks, withLookupField } from './relationships.js';
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
  /** The API names of the fields written only while the record's field is empty (`when: if_empty`). */
  readonly ifEmptyFields: ReadonlySet<string>;

  /** This object's view of the API, so the run report can give its own request count. */
  private readonly api: ObjectApi;

  constructor(
    api: SalesforceApi,
    private readonly object: SalesforceObject,
    private readonly plan: StreamPlan,
    private readonly settings: WriterSettings,
    log: Logger,
    /** Reference fields set through their parent's key (fields[].lookup). */
    private readonly links: ParentLinks = new Map(),
  ) {
    this.api = new ObjectApi(api);
    const destination = plan.match.destination;
    this.byId = destination !== undefined && destination.toLowerCase() === RECORD_ID.toLowerCase();
    this.keyField = destination && !this.byId ? findField(object, destination) : undefined;
    this.collections = new Collections(this.api, object, this.keyField?.name, links);
    const identifies = this.keyField !== undefined && (this.keyField.externalId || this.keyField.unique);
    this.insertField = plan.operation === 'insert' && identifies ? this.keyField : undefined;
    this.insertKey = this.insertField?.name;
    this.journalKey = this.insertField ? undefined : this.keyField?.name;
    // By API name as prepare() writes it: the config may spell a field in another case.
    this.ifEmptyFields = new Set(fieldsWritten(plan, 'if_empty').map((name) => findField(object, name)?.name ?? name));
    this.modes = new ModeWriter(this, plan.operation);
    this.bulk = new BulkIngest(this.api, object, log, this.keyField?.name, plan.operation === 'insert' ? this.keyField?.name : undefined, links);
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
      const converted = this.convert(field, raw);
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

  /** A linked field's value is its parent's key, converted as the parent's key field takes it. */
  private convert(field: SalesforceField, raw: unknown): ReturnType<typeof toSalesforceValue> {
    const link = this.links.get(field.name);
    if (!link) return toSalesforceValue(field, raw);
    const key = toSalesforceValue(link.key, raw);
    if (key.ok) return key;
    return { ok: false, rejection: { ...key.rejection, field: field.name, message: `${field.name} (by ${link.parent}.${link.key.name}): ${key.rejection.message}` } };
  }

  /** What prepare() converts by: the fields as described (a lookup's parent key field too), how rows match, and the operation (required fields). */
  conversionFingerprint(): string {
    // A linked field's value converts as its parent's key field is described.
    const parents = [...this.links.values()].map((link) => [link.field.name, link.parent, link.key]);
    return JSON.stringify([this.plan.operation, this.byId, this.keyField?.name ?? null, this.object.fields, parents]);
  }

  async write(rows: PendingWrite[]): Promise<RowOutcome[]> {
    const outcomes = await this.modes.write(rows);
    return this.links.size === 0 ? outcomes : outcomes.map((outcome) => withLookupField(outcome, this.links));
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
    const held = await this.readHeld(rows, [...new Set(rows.flatMap((row) => Object.keys(row.values)))]);
    const matchName = this.matchField()?.name;
    return rows.map((row, i): CrmComparison => {
      const records = held[i];
      if (records.length === 0) return { found: false };
      const sent = Object.entries(row.values as Values).filter(([name]) => name !== matchName);
      const changed = sent
        .filter(([name, value]) => {
          if (records.length > 1) return true;
          const field = findField(this.object, name)!;
          // An if_empty field Salesforce fills is as it should be, whatever the row says.
          if (this.ifEmptyFields.has(field.name) && holdsValue(records[0][field.name])) return false;
          return !this.holds(records[0], field, value);
        })
        .map(([name]) => name);
      return { found: true, changed };
    });
  }

  /** What to read for a field: a linked field's parent key too (one level up, as SOQL allows), unless polymorphic. */
  private selected(name: string): string[] {
    const link = this.links.get(findField(this.object, name)!.name);
    return link && !link.polymorphic ? [link.field.name, `${link.relationshipName}.${link.key.name}`] : [name];
  }

  /**
   * Whether a record already holds what the row sends. A linked field holds the parent's id, the
   * row its key: they compare through the parent's key read with the record. A polymorphic one
   * cannot be read that way (SOQL reaches only fields every parent type has): it counts as changed
   * unless both are empty.
   */
  private holds(record: Record<string, unknown>, field: SalesforceField, value: SalesforceValue): boolean {
    const link = this.links.get(field.name);
    if (!link || value === null) return sameSalesforceValue(field, value, record[field.name]);
    if (link.polymorphic) return false;
    const parent = record[link.relationshipName] as Record<string, unknown> | null | undefined;
    return sameSalesforceValue(link.key, value, parent?.[link.key.name]);
  }

  /** The records holding each row's key (SOQL by Id or by the key field), with which of `fields` hold a value. */
  async readFilled(rows: PendingWrite[], fields: string[]): Promise<HeldRecord[][]> {
    const held = await this.readHeld(rows, fields);
    return held.map((records) => records.map((record) => ({
      id: String(record.Id),
      filled: new Set(fields.filter((name) => holdsValue(record[findField(this.object, name)?.name ?? name]))),
    })));
  }

  /** Each row's records, read by Id or by the key field with the SOQL lookup, with the named fields. */
  private async readHeld(rows: PendingWrite[], fields: string[]): Promise<Record<string, unknown>[][]> {
    const field = this.matchField();
    if (!field) return rows.map(() => []);
    const names = fields.filter((name) => name !== field.name && findField(this.object, name) !== undefined);
    const keyOf = (row: PendingWrite) => (this.byId ? row.key : this.keyValue(row));
    const compare = keyComparer(field);
    const records = await lookupRecords(this.api, this.object, field, rows.map(keyOf), names.flatMap((name) => this.selected(name)));
    return rows.map((row) => records.get(compare(keyOf(row))) ?? []);
  }

  /** The field rows find their records by: Id, the key field, or none (insert without a key). */
  private matchField(): SalesforceField | undefined {
    return this.byId ? findField(this.object, RECORD_ID) : this.keyField;
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

/** Salesforce holds an empty field as null (text fields never keep ""). */
function holdsValue(value: unknown): boolean {
  return value !== null && value !== undefined && value !== '';
}
