// Writes one stream's batches into one Salesforce object: insert → create (existing external ids
// skipped, never modified), update → by Id, or by another idLookup field looked up with SOQL first
// (unknown keys are not_found, never created), upsert → upsert by the external id, archive → delete.
// Each write goes out through sObject Collections (200 a call) or, for large batches, as one
// Bulk API 2.0 job: `crm.api` rest | bulk | auto (bulk from `bulk_threshold` rows).
// Creates that may have landed unheard (timeout, connection cut, 5xx) are settled by reading the
// keys back before anything is sent again, so a retry never duplicates a record; without a key
// field that identifies records, such rows are reported as unknown_outcome, never sent twice.
import type { StreamPlan } from '../../config/stream-plan.js';
import type { Logger } from '../../protocol/log.js';
import type { CrmComparison, MappedRow, ObjectWriter, PendingWrite, Prepared, RowOutcome } from '../destination.js';
import { sleep } from '../http/sleep.js';
import { backoff, DEFAULT_RETRY } from '../http/retry.js';
import { ObjectApi, type SalesforceApi } from './api.js';
import { BulkIngest } from './bulk.js';
import { COLLECTION_MAX, Collections, type RecordWrite } from './collections.js';
import { keyComparer, lookupIds, lookupRecords } from './lookup.js';
import { UNKNOWN_OUTCOME, type WriteKind } from './outcomes.js';
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
/** Sends of one batch of creates whose outcome stayed unknown, the first included: as many as any request's attempts. */
const MAX_CREATE_ROUNDS = DEFAULT_RETRY.maxAttempts;

type Values = Record<string, SalesforceValue>;

export class SalesforceObjectWriter implements ObjectWriter {
  readonly maxBatchRows: number;
  readonly maxConcurrentWrites: number;
  /** The field the key is written to and matched by; undefined when matching by Id or by nothing. */
  private readonly keyField?: SalesforceField;
  private readonly byId: boolean;
  /** Insert matches by a field whose value identifies one record: existing keys are skipped, lost creates read back. */
  private readonly insertKey?: SalesforceField;
  private readonly collections: Collections;
  private readonly bulk: BulkIngest;
  readonly findCreated?: (keys: string[]) => Promise<Map<string, string[]>>;
  /** SOQL sees a record once it is committed: only a request still under way when its run died may land later. */
  readonly createsFindableAfterMs: number;
  readonly journalsCreates: boolean;
  /** Set on the first read or write: every batch waits for the same check. */
  private leftoverJobs?: Promise<void>;

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
    this.insertKey = plan.operation === 'insert' && identifies ? this.keyField : undefined;
    this.bulk = new BulkIngest(this.api, object, log, this.keyField?.name, plan.operation === 'insert' ? this.keyField?.name : undefined);
    if (this.keyField) this.findCreated = (keys) => this.findByKey(keys);
    // No wait by a key that identifies records: a create landing after the lookup makes the resend a DUPLICATE_VALUE, read back.
    this.createsFindableAfterMs = this.insertKey ? 0 : this.api.requestTimeoutMs;
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

  async write(rows: PendingWrite[]): Promise<RowOutcome[]> {
    await this.awaitLeftoverJobs();
    switch (this.plan.operation) {
      case 'insert': return this.insert(rows);
      case 'update': return this.update(rows);
      case 'upsert': return this.send('upsert', rows.map((row) => ({ values: this.withKey(row) })));
      case 'archive': return this.archive(rows);
    }
  }

  /**
   * A run killed mid-job leaves its Bulk API job processing in Salesforce. Before this run reads
   * or writes the object, those jobs finish: else a lookup could miss rows they are about to
   * create, and the same rows would be created twice.
   */
  private async awaitLeftoverJobs(): Promise<void> {
    if (this.settings.api === 'rest') return;
    this.leftoverJobs ??= this.bulk.awaitUnfinishedJobs();
    await this.leftoverJobs;
  }

  private async insert(rows: PendingWrite[]): Promise<RowOutcome[]> {
    if (!this.insertKey) return this.create(rows);
    // A key that identifies records cannot be inserted twice: existing keys are skipped, never modified.
    const existing = await this.lookup(rows);
    return this.splitRows(rows, (row) => {
      const ids = existing.get(this.compareKey(row));
      return ids ? this.exists(row, ids[0]) : undefined;
    }, (fresh) => this.create(fresh));
  }

  /**
   * Creates are not idempotent. Rows Salesforce may have created without our hearing it are read
   * back by the key: found means created; not found is sent again (a resent row refused as a
   * duplicate key is read back too: the first send landed meanwhile). Without a key that
   * identifies records nothing can tell a landed row from a lost one, so such rows are reported
   * with an unknown outcome: never sent twice in one run, never counted as written.
   */
  private async create(rows: PendingWrite[], round = 1): Promise<RowOutcome[]> {
    const outcomes = await this.send('create', rows.map((row) => ({ values: this.withKey(row) })));
    if (!this.insertKey) return outcomes.map((outcome) => (outcome.status === 'unknown' ? this.unknown(outcome.message) : outcome));
    const unsure = rows.filter((_, i) => outcomes[i].status === 'unknown' || this.isDuplicateKey(outcomes[i]));
    if (unsure.length === 0) return outcomes;
    const landed = await this.lookup(unsure);
    const lost = unsure.filter((row) => !landed.has(this.compareKey(row)) && outcomes[rows.indexOf(row)].status === 'unknown');
    const resent = lost.length > 0 && (await this.mayResend(round)) ? await this.create(lost, round + 1) : [];
    return rows.map((row, i) => {
      const outcome = outcomes[i];
      const ids = unsure.includes(row) ? landed.get(this.compareKey(row)) : undefined;
      if (ids) {
        // Refused as a duplicate on the first send: another writer created it after our lookup.
        if (round === 1 && outcome.status !== 'unknown') return this.exists(row, ids[0]);
        return { status: 'created', id: ids[0] };
      }
      const at = lost.indexOf(row);
      if (at >= 0 && at < resent.length) return resent[at];
      return outcome.status === 'unknown' ? this.unknown(outcome.message) : outcome;
    });
  }

  /** Backs off before a resend as before any retry; a stopping run sends nothing more. */
  private async mayResend(round: number): Promise<boolean> {
    if (round >= MAX_CREATE_ROUNDS || this.api.stopSignal.aborted) return false;
    await sleep(backoff(round, DEFAULT_RETRY), this.api.stopSignal);
    return !this.api.stopSignal.aborted;
  }

  /** Row key → ids of the records whose key field holds its value (after any job a killed run left). */
  private async findByKey(keys: string[]): Promise<Map<string, string[]>> {
    await this.awaitLeftoverJobs();
    const rows = keys.map((key) => ({ key, values: {} }));
    const held = await this.lookup(rows);
    const found = new Map<string, string[]>();
    for (const row of rows) {
      const ids = held.get(this.compareKey(row));
      if (ids) found.set(row.key, ids);
    }
    return found;
  }

  private exists(row: PendingWrite, id: string): RowOutcome {
    return { status: 'skipped', code: 'exists', message: `a record with ${this.insertKey!.name} ${this.keyValue(row)} exists (${id}); insert mode never modifies it` };
  }

  /** Salesforce's refusal of a value the key field already holds (unique or external-id field). */
  private isDuplicateKey(outcome: RowOutcome): boolean {
    return outcome.status === 'rejected' && outcome.code === 'DUPLICATE_VALUE' && outcome.message.includes(this.insertKey!.name);
  }

  private unknown(reason: string): RowOutcome {
    const next = this.insertKey
      ? `a rerun reads ${this.insertKey.name} before creating, so it cannot be created twice`
      : this.keyField
        ? `a rerun queries ${this.keyField.name} for it before sending anything (the store's create journal), so it is not created twice`
        : 'without an external-id or unique field in match.destination the connector cannot check; a rerun sends it again, so look for it in Salesforce first (matching inserts by an external-id field makes them safe to retry)';
    return { status: 'unknown', code: UNKNOWN_OUTCOME, message: `Salesforce may or may not have created this record (${reason}); its state is held back; ${next}` };
  }

  private async update(rows: PendingWrite[]): Promise<RowOutcome[]> {
    if (this.byId) return this.updateKnown(rows.map((row) => ({ row, id: row.key })));
    const known = await this.lookup(rows);
    const found: { row: PendingWrite; id: string }[] = [];
    return this.splitRows(rows, (row) => {
      const matched = this.matchOne(row, known);
      if (typeof matched === 'string') found.push({ row, id: matched });
      return typeof matched === 'string' ? undefined : matched;
    }, () => this.updateKnown(found));
  }

  /** Rows left with no field to change once the key is taken out cost no call. */
  private async updateKnown(targets: { row: PendingWrite; id: string }[]): Promise<RowOutcome[]> {
    const records = targets.map(({ row, id }) => ({ id, values: this.valuesWithoutKey(row) }));
    const changed = records.filter((record) => Object.keys(record.values).length > 0);
    const sent = await this.send('update', changed);
    let next = 0;
    return records.map((record) => (Object.keys(record.values).length > 0 ? sent[next++] : { status: 'unchanged', id: record.id }));
  }

  private async archive(rows: PendingWrite[]): Promise<RowOutcome[]> {
    if (this.byId) return this.send('delete', rows.map((row) => ({ id: row.key, values: {} })));
    const known = await this.lookup(rows);
    const ids: string[] = [];
    return this.splitRows(rows, (row) => {
      const matched = this.matchOne(row, known);
      if (typeof matched === 'string') ids.push(matched);
      return typeof matched === 'string' ? undefined : matched;
    }, () => this.send('delete', ids.map((id) => ({ id, values: {} }))));
  }

  /** The id of the one record holding the row's key; not_found for none, rejected for several. */
  private matchOne(row: PendingWrite, known: Map<string, string[]>): string | RowOutcome {
    const ids = known.get(this.compareKey(row)) ?? [];
    if (ids.length === 0) return { status: 'not_found' };
    if (ids.length > 1) {
      return {
        status: 'rejected', code: 'DUPLICATE_EXTERNAL_ID', field: this.keyField!.name,
        message: `${this.keyField!.label}: more than one record found for ${this.keyField!.name} ${this.keyValue(row)}: [${ids.join(', ')}]`,
      };
    }
    return ids[0];
  }

  /**
   * Reads the rows' records (by Id or by the key field, with the SOQL lookup) and names, per row,
   * the fields whose value Salesforce holds differently. A key held by several records counts as
   * changed in every field, so the write reports it.
   */
  async compareWithCrm(rows: PendingWrite[]): Promise<CrmComparison[]> {
    await this.awaitLeftoverJobs();
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

  /** Rows `decide` settles at once keep that outcome; the others go to `send`, in order. */
  private async splitRows(
    rows: PendingWrite[],
    decide: (row: PendingWrite) => RowOutcome | undefined,
    send: (rest: PendingWrite[]) => Promise<RowOutcome[]>,
  ): Promise<RowOutcome[]> {
    const decided = rows.map(decide);
    const rest = rows.filter((_, i) => decided[i] === undefined);
    const sent = rest.length > 0 ? await send(rest) : [];
    let next = 0;
    return decided.map((outcome) => outcome ?? sent[next++]);
  }

  private send(kind: WriteKind, records: RecordWrite[]): Promise<RowOutcome[]> {
    if (records.length === 0) return Promise.resolve([]);
    const bulk = this.settings.api === 'bulk' || (this.settings.api === 'auto' && records.length >= this.settings.bulkThreshold);
    return bulk ? this.bulk.write(kind, records) : this.collections.write(kind, records);
  }

  /** Key (as Salesforce compares it) → ids of the records holding it. */
  private lookup(rows: PendingWrite[]): Promise<Map<string, string[]>> {
    return lookupIds(this.api, this.object, this.keyField!, rows.map((row) => this.keyValue(row)));
  }

  /** The key as the key field holds it (converted in prepare; recomputed, as change detection may drop it from the values). */
  private keyValue(row: PendingWrite): string {
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

  private valuesWithoutKey(row: PendingWrite): Values {
    const values = { ...(row.values as Values) };
    if (this.keyField) delete values[this.keyField.name];
    return values;
  }
}
