// Writes one stream's batches into one HubSpot object: insert → batch/create, update →
// batch/read (known vs unknown) then batch/update, upsert → batch/upsert, archive → batch/read
// then batch/archive. 100 inputs per call. A whole-batch 400/409 is bisected to find its bad rows.
// Creates that may have landed unheard (timeout, connection cut, 5xx) are settled by reading
// them back before anything is sent again, so a retry never duplicates a record.
import type { StreamPlan } from '../../config/stream-plan.js';
import { asConnectorError, bugError, configError } from '../../errors.js';
import { isAmbiguous } from '../http/network.js';
import type { CrmComparison, MappedRow, ObjectWriter, PendingWrite, Prepared, RowOutcome, Values } from '../destination.js';
import { errorText, type HubSpotApi, type HubSpotResponse } from './api.js';
import { reconcile, rejectionOf, type BatchResult } from './batch-results.js';
import { RECORD_ID, type HubSpotObject, type HubSpotProperty } from './properties.js';
import { sameHubSpotValue, toHubSpotValue } from './values.js';

export const HUBSPOT_BATCH_MAX = 100;
/** HubSpot's search index lags its records by "a few seconds"; a margin over that. */
export const SEARCH_LAG_MS = 5_000;
/** Values one search filter's IN takes, and results one search page holds. */
const SEARCH_VALUES = 100;
const SEARCH_PAGE = 200;
/** Sends of one batch of creates whose outcome stayed unknown, the first included. */
const MAX_CREATE_ROUNDS = 3;
export const UNKNOWN_OUTCOME = 'unknown_outcome';
type BatchAction = 'create' | 'update' | 'upsert';
interface Input {
  id?: string;
  idProperty?: string;
  properties: Record<string, string>;
}

export class HubSpotObjectWriter implements ObjectWriter {
  readonly maxBatchRows = HUBSPOT_BATCH_MAX;
  readonly maxConcurrentWrites: number;
  /** The property the key is written to and, when it holds unique values, matched by. */
  private readonly keyProperty?: HubSpotProperty;
  /** The unique property rows are looked up by; undefined when matching by hs_object_id or by nothing. */
  private readonly idProperty?: HubSpotProperty;
  private requests = 0;
  readonly findCreated?: (keys: string[]) => Promise<Map<string, string[]>>;
  readonly createsFindableAfterMs: number;
  readonly journalsCreates: boolean;

  constructor(
    private readonly api: HubSpotApi,
    private readonly object: HubSpotObject,
    private readonly plan: StreamPlan,
  ) {
    const destination = plan.match.destination;
    this.keyProperty = destination && destination !== RECORD_ID ? object.properties.get(destination) : undefined;
    this.idProperty = this.keyProperty?.hasUniqueValue ? this.keyProperty : undefined;
    // A unique property is read back at once (batch/read); any other only through search, which lags.
    if (this.keyProperty) this.findCreated = (keys) => (this.idProperty ? this.readBackByKey(keys) : this.searchByKey(keys));
    // No wait by a unique property: a create landing after the lookup makes the resend a 409, read back.
    this.createsFindableAfterMs = this.idProperty ? 0 : api.timeoutMs + SEARCH_LAG_MS;
    this.journalsCreates = plan.operation === 'insert' && this.keyProperty !== undefined && !this.idProperty;
    // Enough requests in flight to keep the rate limit busy while others wait on HubSpot.
    this.maxConcurrentWrites = Math.max(2, Math.min(16, Math.ceil(api.requestsPerSecond)));
  }

  isWritableField(name: string): boolean {
    const property = this.object.properties.get(name);
    return property !== undefined && property.readOnlyReason === undefined;
  }

  prepare(row: MappedRow): Prepared {
    const values: Values = {};
    for (const [name, raw] of Object.entries(row.values)) {
      const property = this.object.properties.get(name);
      if (!property) return { ok: false, rejection: { code: 'PROPERTY_DOESNT_EXIST', field: name, message: `${name} is not a property of ${this.object.name}` } };
      const converted = toHubSpotValue(property, raw);
      if (!converted.ok) return converted;
      values[name] = converted.value;
    }
    if (this.keyProperty) {
      const key = toHubSpotValue(this.keyProperty, row.key);
      if (!key.ok) return key;
      values[this.keyProperty.name] = key.value;
    }
    return { ok: true, values };
  }

  async write(rows: PendingWrite[]): Promise<RowOutcome[]> {
    switch (this.plan.operation) {
      case 'insert': return this.insert(rows);
      case 'update': return this.update(rows);
      case 'upsert': return this.sendBatch('upsert', rows.map((row) => this.upsertInput(row)));
      case 'archive': return this.archive(rows);
    }
  }

  private async insert(rows: PendingWrite[]): Promise<RowOutcome[]> {
    // A unique key cannot be inserted twice: existing keys are skipped, never modified.
    const existing = this.idProperty ? await this.lookup(rows) : new Map<string, string>();
    return this.splitByKnown(rows, existing,
      (row) => this.exists(row),
      (fresh) => this.create(fresh),
      true);
  }

  /**
   * batch/create is not idempotent. Rows HubSpot may have created without our hearing it are read
   * back by the unique match property: found means created; not found is sent again. A batch
   * refused because some of its keys exist (409: a killed run's creates landing late, or another
   * writer) is read back the same way, in one call: the keys found exist and are skipped (created,
   * when our own earlier send made them), the others are sent again. Without a unique property
   * nothing can tell a landed row from a lost one, so such rows are reported with an unknown
   * outcome: never sent twice in one run, never counted as written.
   */
  private async create(rows: PendingWrite[], round = 1): Promise<RowOutcome[]> {
    const outcomes = await this.sendBatch('create', rows.map((row) => ({ properties: asStrings(row.values) })));
    const unsure = rows.filter((_, i) => outcomes[i].status === 'unknown' || isConflict(outcomes[i]));
    if (unsure.length === 0) return outcomes;
    if (!this.idProperty) return outcomes.map((outcome) => (outcome.status === 'unknown' ? this.unknown(outcome.message) : outcome));
    const landed = await this.lookup(unsure);
    const lost = unsure.filter((row) => !landed.has(this.idValue(row)));
    const resent = lost.length > 0 && round < MAX_CREATE_ROUNDS ? await this.create(lost, round + 1) : [];
    return rows.map((row, i) => {
      const id = landed.get(this.idValue(row));
      if (id !== undefined && unsure.includes(row)) {
        // A key that existed before this run's first send was someone else's: insert never touches it.
        return isConflict(outcomes[i]) && round === 1 ? this.exists(row) : { status: 'created', id };
      }
      const at = lost.indexOf(row);
      if (at >= 0 && at < resent.length) return resent[at];
      return outcomes[i].status === 'unknown' ? this.unknown(outcomes[i].message) : outcomes[i];
    });
  }

  private exists(row: PendingWrite): RowOutcome {
    return { status: 'skipped', code: 'exists', message: `a record with ${this.idProperty?.name} ${this.idValue(row)} exists; insert mode never modifies it` };
  }

  private unknown(reason: string): RowOutcome {
    const next = this.idProperty
      ? `a rerun reads ${this.idProperty.name} before creating, so it cannot be created twice`
      : this.keyProperty
        ? `a rerun searches ${this.keyProperty.name} for it before sending anything (the store's create journal), so it is not created twice`
        : `without a unique-value property in match.destination the connector cannot check; a rerun sends it again, so look for it in HubSpot first (matching by a unique-value property makes inserts safe to retry)`;
    return { status: 'unknown', code: UNKNOWN_OUTCOME, message: `HubSpot may or may not have created this record (${reason}); its state is held back; ${next}` };
  }

  private async update(rows: PendingWrite[]): Promise<RowOutcome[]> {
    const known = await this.lookup(rows);
    return this.splitByKnown(rows, known,
      () => ({ status: 'not_found' }),
      (found) => this.updateKnown(found, known),
      false);
  }

  /** Rows left with nothing to send after the key is taken out cost no call. */
  private async updateKnown(rows: PendingWrite[], known: Map<string, string>): Promise<RowOutcome[]> {
    const idOf = (row: PendingWrite) => known.get(this.idValue(row))!;
    const hasChanges = (row: PendingWrite) => Object.keys(this.propertiesWithoutKey(row)).length > 0;
    const changed = rows.filter(hasChanges);
    const sent = changed.length > 0 ? await this.sendBatch('update', changed.map((row) => ({ id: idOf(row), properties: this.propertiesWithoutKey(row) }))) : [];
    let next = 0;
    return rows.map((row) => (hasChanges(row) ? sent[next++] : { status: 'unchanged', id: idOf(row) }));
  }

  private async archive(rows: PendingWrite[]): Promise<RowOutcome[]> {
    const known = await this.lookup(rows);
    return this.splitByKnown(rows, known,
      () => ({ status: 'not_found' }),
      async (found) => {
        const ids = found.map((row) => known.get(this.idValue(row))!);
        const response = await this.post('archive', { inputs: ids.map((id) => ({ id })) }, true);
        if (response.status !== 204) throw this.unexpected('batch/archive', response);
        return ids.map((id) => ({ status: 'removed', id }));
      },
      false);
  }

  /** Rows whose key is (or is not) in `known` go different ways; outcomes return in row order. */
  private async splitByKnown(
    rows: PendingWrite[],
    known: Map<string, string>,
    whenOther: (row: PendingWrite) => RowOutcome,
    sendSelected: (selected: PendingWrite[]) => Promise<RowOutcome[]>,
    selectUnknown: boolean,
  ): Promise<RowOutcome[]> {
    const isSelected = (row: PendingWrite) => known.has(this.idValue(row)) !== selectUnknown;
    const selected = rows.filter(isSelected);
    const sent = selected.length > 0 ? await sendSelected(selected) : [];
    let next = 0;
    return rows.map((row) => (isSelected(row) ? sent[next++] : whenOther(row)));
  }

  /** Key value → HubSpot record id for the rows that exist (archived records do not count). */
  private async lookup(rows: PendingWrite[]): Promise<Map<string, string>> {
    const records = await this.readRecords(rows, []);
    return new Map([...records].map(([key, record]) => [key, String(record.id)]));
  }

  private async readBackByKey(keys: string[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    for (let from = 0; from < keys.length; from += HUBSPOT_BATCH_MAX) {
      const rows = keys.slice(from, from + HUBSPOT_BATCH_MAX).map((key) => this.keyRow(key));
      const ids = await this.lookup(rows);
      for (const row of rows) {
        const id = ids.get(this.idValue(row));
        if (id !== undefined) found.set(row.key, [id]);
      }
    }
    return found;
  }

  /** Row key → ids of the records whose (non-unique) key property holds its value, through search. */
  private async searchByKey(keys: string[]): Promise<Map<string, string[]>> {
    const name = this.keyProperty!.name;
    const keyOfValue = new Map(keys.map((key) => [String(this.keyRow(key).values[name]).toLowerCase(), key]));
    const values = [...keyOfValue.keys()];
    const found = new Map<string, string[]>();
    for (let from = 0; from < values.length; from += SEARCH_VALUES) {
      const filter = { propertyName: name, operator: 'IN', values: values.slice(from, from + SEARCH_VALUES) };
      for (let after: string | undefined, first = true; first || after !== undefined; first = false) {
        const body = { filterGroups: [{ filters: [filter] }], properties: [name], limit: SEARCH_PAGE, ...(after === undefined ? {} : { after }) };
        this.requests += 1;
        const response = await this.api.request({ method: 'POST', path: `/crm/v3/objects/${this.object.objectTypeId}/search`, body, idempotent: true });
        if (response.status !== 200) throw this.unexpected('search', response);
        for (const result of (response.body?.results ?? []) as BatchResult[]) {
          const key = keyOfValue.get(String(result.properties?.[name] ?? '').toLowerCase());
          if (key !== undefined) found.set(key, [...(found.get(key) ?? []), String(result.id)]);
        }
        after = response.body?.paging?.next?.after;
      }
    }
    return found;
  }

  /** A row carrying only its key, converted as a write would send it. */
  private keyRow(key: string): PendingWrite {
    const converted = toHubSpotValue(this.keyProperty!, key);
    return { key, values: { [this.keyProperty!.name]: converted.ok ? converted.value : key } };
  }

  /** The records these rows match, by key value, with the named properties. */
  private async readRecords(rows: PendingWrite[], properties: string[]): Promise<Map<string, BatchResult>> {
    const byRecordId = !this.idProperty;
    const body = {
      inputs: [...new Set(rows.map((row) => this.idValue(row)))].map((id) => ({ id })),
      properties: byRecordId ? properties : [...new Set([this.idProperty!.name, ...properties])],
      propertiesWithHistory: [],
      ...(byRecordId ? {} : { idProperty: this.idProperty!.name }),
    };
    const response = await this.post('read', body, true);
    if (response.status !== 200 && response.status !== 207) throw this.unexpected('batch/read', response);
    const found = new Map<string, BatchResult>();
    for (const result of (response.body?.results ?? []) as BatchResult[]) {
      const key = byRecordId ? result.id : result.properties?.[this.idProperty!.name];
      if (key !== undefined && key !== null) found.set(String(key), result);
    }
    return found;
  }

  async compareWithCrm(rows: PendingWrite[]): Promise<CrmComparison[]> {
    const names = [...new Set(rows.flatMap((row) => Object.keys(row.values)))].filter((name) => name !== this.idProperty?.name);
    const records = await this.readRecords(rows, names);
    return rows.map((row): CrmComparison => {
      const record = records.get(this.idValue(row));
      if (!record) return { found: false };
      const changed = Object.keys(row.values).filter((name) => {
        const property = this.object.properties.get(name);
        return name !== this.idProperty?.name && property !== undefined && !sameHubSpotValue(property, String(row.values[name]), record.properties?.[name]);
      });
      return { found: true, changed };
    });
  }

  private upsertInput(row: PendingWrite): Input {
    return { id: this.idValue(row), idProperty: this.idProperty!.name, properties: this.propertiesWithoutKey(row) };
  }

  /** Sends one batch action; a whole-batch refusal (400/409) is split in halves until each bad row is alone. */
  private async sendBatch(action: BatchAction, inputs: Input[]): Promise<RowOutcome[]> {
    const traced = inputs.map((input, i) => ({ ...input, objectWriteTraceId: String(i) }));
    let response: HubSpotResponse;
    try {
      response = await this.post(action, { inputs: traced }, action !== 'create');
    } catch (error) {
      const failure = asConnectorError(error);
      if (action !== 'create' || !isAmbiguous(failure)) throw error;
      return inputs.map(() => ({ status: 'unknown', code: UNKNOWN_OUTCOME, message: failure.message }));
    }
    const expected = action === 'create' ? 201 : 200;
    if (response.status === expected || response.status === 207) {
      return reconcile(response.body, inputs.length, (result) => this.outcomeOf(action, result));
    }
    if (response.status === 409 && action === 'create' && this.idProperty) {
      // Some of the keys exist: create() reads the batch back instead of bisecting it call by call.
      return inputs.map(() => ({ status: 'rejected', ...rejectionOf(response.body ?? {}), code: CONFLICT }));
    }
    if (response.status === 400 || response.status === 409) {
      this.raiseIfRequestLevel(response);
      if (inputs.length === 1) return [{ status: 'rejected', ...rejectionOf(response.body ?? {}) }];
      const half = Math.ceil(inputs.length / 2);
      return [...(await this.sendBatch(action, inputs.slice(0, half))), ...(await this.sendBatch(action, inputs.slice(half)))];
    }
    throw this.unexpected(`batch/${action}`, response);
  }

  private outcomeOf(action: BatchAction, result: BatchResult): RowOutcome {
    const created = action === 'create' || (action === 'upsert' && result.new === true);
    return { status: created ? 'created' : 'updated', id: String(result.id) };
  }

  /** Errors about the request itself, not about a row: bisecting cannot help. */
  private raiseIfRequestLevel(response: HubSpotResponse): void {
    const message = errorText(response.body);
    if (/non-unique/i.test(message)) throw configError(`HubSpot refuses to match ${this.object.name} by ${this.idProperty?.name}: ${message}`, { code: 'non_unique_id_property' });
  }

  requestCount(): number {
    return this.requests;
  }

  private post(action: string, body: unknown, idempotent: boolean): Promise<HubSpotResponse> {
    this.requests += 1;
    return this.api.request({ method: 'POST', path: `/crm/v3/objects/${this.object.objectTypeId}/batch/${action}`, body, idempotent, checkAnswer: batchAnswerProblem(action) });
  }

  private unexpected(what: string, response: HubSpotResponse): Error {
    if (response.status === 404) return configError(`${this.object.name} no longer exists in HubSpot (404 on ${what}): ${errorText(response.body)}`);
    return bugError(`unexpected HubSpot answer ${response.status} to ${what}: ${errorText(response.body)}`);
  }

  private idValue(row: PendingWrite): string {
    return this.idProperty ? String(row.values[this.idProperty.name] ?? row.key) : row.key;
  }

  private propertiesWithoutKey(row: PendingWrite): Record<string, string> {
    const properties = asStrings(row.values);
    if (this.idProperty) delete properties[this.idProperty.name];
    return properties;
  }
}

/**
 * A batch answer lists its results (a 207 its errors too); archive answers 204 without a body.
 * Anything else in a 2xx is not HubSpot's answer (a middlebox's), so it says nothing about the rows.
 */
function batchAnswerProblem(action: string): (status: number, body: any) => string | undefined {
  if (action === 'archive') return (status) => (status === 204 ? undefined : `${status} instead of 204 No Content`);
  return (_status, body) => (Array.isArray(body?.results) ? undefined : 'no results list');
}

const CONFLICT = 'CONFLICT';

function isConflict(outcome: RowOutcome): boolean {
  return outcome.status === 'rejected' && outcome.code === CONFLICT;
}

function asStrings(values: Values): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) out[name] = String(value);
  return out;
}
