// Writes one stream's batches into one HubSpot object, through the mode table (../mode-writer.ts):
// lookups are batch/read by the unique property (or hs_object_id), and sends batch/create,
// batch/update, batch/upsert or batch/archive, 100 inputs per call. A whole-batch 400/409 is
// bisected to find its bad rows, except a batch of creates refused because keys exist (409),
// which the mode table reads back in one call.
import { fieldsWritten, type StreamPlan } from '../../config/stream-plan.js';
import { asConnectorError, configError } from '../../errors.js';
import { isAmbiguous } from '../http/network.js';
import { ModeWriter, UNKNOWN_OUTCOME, type CreateRefusal, type HeldRecord, type ModePort, type Outgoing, type SendKind } from '../mode-writer.js';
import type { CrmComparison, MappedRow, ObjectWriter, PendingWrite, Prepared, RowOutcome, Values } from '../destination.js';
import { errorText, type HubSpotApi, type HubSpotRequest, type HubSpotResponse } from './api.js';
import { reconcile, rejectionOf, type BatchResult } from './batch-results.js';
import { RECORD_ID, type HubSpotObject, type HubSpotProperty } from './properties.js';
import { sameHubSpotValue, toHubSpotValue } from './values.js';
import type { AssociationTarget } from './association-targets.js';
import { LinkWriter, type Resolution } from './links.js';
import { HUBSPOT_BATCH_MAX, noContent, readBatch, resultsList, unexpectedAnswer } from './batch-read.js';
import { isLinkField } from '../../config/stream-plan.js';

/** HubSpot's search index lags its records by "a few seconds"; a margin over that. */
export const SEARCH_LAG_MS = 5_000;
/** Values one search filter's IN takes, and results one search page holds. */
const SEARCH_VALUES = 100;
const SEARCH_PAGE = 200;
type BatchAction = 'create' | 'update' | 'upsert';
interface Input {
  id?: string;
  idProperty?: string;
  properties: Record<string, string>;
}

export class HubSpotObjectWriter implements ObjectWriter, ModePort {
  readonly crm = 'HubSpot';
  readonly identifyingField = 'a unique-value property';
  readonly journalKey?: string;
  readonly maxBatchRows = HUBSPOT_BATCH_MAX;
  readonly maxConcurrentWrites: number;
  /** The property the key is written to and, when it holds unique values, matched by. */
  private readonly keyProperty?: HubSpotProperty;
  /** The unique property rows are looked up by; undefined when matching by hs_object_id or by nothing. */
  private readonly idProperty?: HubSpotProperty;
  private requests = 0;
  private readonly modes: ModeWriter;
  /** Inserts by a unique-value property: existing keys skipped, lost creates read back. */
  readonly insertKey?: string;
  readonly findCreated?: (keys: string[]) => Promise<Map<string, string[]>>;
  readonly createsFindableAfterMs: number;
  readonly journalsCreates: boolean;
  /** The plan's associations; undefined when it has none. */
  private readonly links?: LinkWriter;
  readonly ifEmptyFields: ReadonlySet<string>;

  constructor(
    private readonly api: HubSpotApi,
    private readonly object: HubSpotObject,
    private readonly plan: StreamPlan,
    associations: AssociationTarget[] = [],
  ) {
    const destination = plan.match.destination;
    this.keyProperty = destination && destination !== RECORD_ID ? object.properties.get(destination) : undefined;
    this.idProperty = this.keyProperty?.hasUniqueValue ? this.keyProperty : undefined;
    this.insertKey = this.idProperty?.name;
    this.journalKey = this.idProperty ? undefined : this.keyProperty?.name;
    this.ifEmptyFields = new Set(fieldsWritten(plan, 'if_empty'));
    this.modes = new ModeWriter(this, plan.operation);
    // A unique property is read back at once (batch/read); any other only through search, which lags.
    if (this.keyProperty) this.findCreated = (keys) => (this.idProperty ? this.readBackByKey(keys) : this.searchByKey(keys));
    // No wait by a unique property: a create landing after the lookup makes the resend a 409, read back.
    this.createsFindableAfterMs = this.idProperty ? 0 : api.timeoutMs + SEARCH_LAG_MS;
    this.journalsCreates = plan.operation === 'insert' && this.keyProperty !== undefined && !this.idProperty;
    // Enough requests in flight to keep the rate limit busy while others wait on HubSpot.
    this.maxConcurrentWrites = Math.max(2, Math.min(16, Math.ceil(api.requestsPerSecond)));
    if (associations.length > 0) {
      this.links = new LinkWriter(object.objectTypeId, associations, plan.operation, (request) => this.counted(request));
    }
  }

  isWritableField(name: string): boolean {
    const property = this.object.properties.get(name);
    return property !== undefined && property.readOnlyReason === undefined;
  }

  /** HubSpot has nothing running on its side that a run must wait for. */
  async start(): Promise<void> {}

  prepare(row: MappedRow): Prepared {
    const values: Values = {};
    for (const [name, raw] of Object.entries(row.values)) {
      // Target keys, normalized by the mapping: the link writer reads them as they are.
      if (isLinkField(name)) {
        values[name] = raw;
        continue;
      }
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

  /** What prepare() converts by: the properties as described and the key's. */
  conversionFingerprint(): string {
    const properties = [...this.object.properties.values()].map((p) => [p.name, p.type, p.fieldType, p.externalOptions, p.options]);
    return JSON.stringify([this.keyProperty?.name ?? null, properties]);
  }

  write(rows: PendingWrite[]): Promise<RowOutcome[]> {
    return this.links ? this.writeWithLinks(rows, this.links) : this.modes.write(rows);
  }

  /**
   * Targets first (a row naming a missing one is rejected unwritten), then the records, then their
   * links. A row whose only change is its links, for a record the store knows, needs no record write.
   */
  private async writeWithLinks(rows: PendingWrite[], links: LinkWriter): Promise<RowOutcome[]> {
    const resolutions = await links.resolve(rows);
    const outcomes: RowOutcome[] = rows.map((_, i) => {
      const resolution = resolutions[i];
      return resolution.ok ? { status: 'unchanged' } : { status: 'rejected', ...resolution.rejection };
    });
    const recordWrites: number[] = [];
    rows.forEach((row, i) => {
      if (!resolutions[i].ok) return;
      const knownId = this.plan.operation === 'update' || this.plan.operation === 'upsert' ? row.stored?.crmId : undefined;
      if (knownId && LinkWriter.linksOnly(row, this.keyProperty?.name)) outcomes[i] = { status: 'updated', id: knownId };
      else recordWrites.push(i);
    });
    if (recordWrites.length > 0) {
      const written = await this.modes.write(recordWrites.map((i) => LinkWriter.withoutLinks(rows[i])));
      recordWrites.forEach((rowIndex, i) => (outcomes[rowIndex] = written[i]));
    }
    const linkable = rows.flatMap((row, i) => {
      const outcome = outcomes[i];
      const written = outcome.status === 'created' || outcome.status === 'updated' || outcome.status === 'unchanged';
      return written && outcome.id ? [{ index: i, row, recordId: outcome.id, resolution: resolutions[i] as Resolution }] : [];
    });
    const linked = await links.apply(linkable);
    linkable.forEach(({ index }, i) => {
      const result = linked[i];
      const outcome = outcomes[index] as Extract<RowOutcome, { notes?: unknown }>;
      outcomes[index] = result.ok ? { ...outcome, notes: result.notes } : { status: 'rejected', ...result.rejection };
    });
    return outcomes;
  }

  // The mode table's port (ModePort): HubSpot's calls for it.

  get stopSignal(): AbortSignal {
    return this.api.stopSignal;
  }

  async lookup(rows: PendingWrite[]): Promise<string[][]> {
    const records = await this.readRecords(rows, []);
    return rows.map((row) => {
      const record = records.get(this.idValue(row));
      return record ? [String(record.id)] : [];
    });
  }

  /** One batch/read, as a lookup, with the asked properties. */
  async readFilled(rows: PendingWrite[], properties: string[]): Promise<HeldRecord[][]> {
    const records = await this.readRecords(rows, properties);
    return rows.map((row) => {
      const record = records.get(this.idValue(row));
      return record ? [{ id: String(record.id), filled: new Set(properties.filter((name) => holdsValue(record.properties?.[name]))) }] : [];
    });
  }

  async send(kind: SendKind, items: Outgoing[]): Promise<RowOutcome[]> {
    switch (kind) {
      case 'create': return this.sendBatch('create', items.map(({ row }) => ({ properties: asStrings(row.values) })));
      case 'update': return this.sendBatch('update', items.map(({ id, values }) => ({ id, properties: asStrings(values ?? {}) })));
      case 'upsert': return this.sendBatch('upsert', items.map(({ row }) => this.upsertInput(row)));
      case 'remove': return this.archive(items.map(({ id }) => id!));
    }
  }

  /** HubSpot refuses a batch of creates whole (409) when some of its keys exist: sendBatch marks every row. */
  createRefusal(outcome: RowOutcome): CreateRefusal | undefined {
    return outcome.status === 'rejected' && outcome.code === CONFLICT ? 'batch_refused' : undefined;
  }

  changes(row: PendingWrite): Values {
    return this.propertiesWithoutKey(row);
  }

  keyValue(row: PendingWrite): string {
    return this.idValue(row);
  }

  /** A unique-value property matches one record at most: kept for the port's sake. */
  ambiguous(row: PendingWrite, ids: string[]): RowOutcome {
    return { status: 'rejected', code: CONFLICT, message: `${ids.length} records match ${this.keyValue(row)}: ${ids.join(', ')}` };
  }

  private async archive(ids: string[]): Promise<RowOutcome[]> {
    const response = await this.post('archive', { inputs: ids.map((id) => ({ id })) }, { idempotent: true });
    if (response.status !== 204) throw this.unexpected('batch/archive', response);
    return ids.map((id) => ({ status: 'removed', id }));
  }

  private async readBackByKey(keys: string[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    for (let from = 0; from < keys.length; from += HUBSPOT_BATCH_MAX) {
      const rows = keys.slice(from, from + HUBSPOT_BATCH_MAX).map((key) => this.keyRow(key));
      const ids = await this.lookup(rows);
      rows.forEach((row, i) => {
        if (ids[i].length > 0) found.set(row.key, ids[i]);
      });
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
        const response = await this.counted({ method: 'POST', path: `/crm/v3/objects/${this.object.objectTypeId}/search`, body, idempotent: true });
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
  private readRecords(rows: PendingWrite[], properties: string[]): Promise<Map<string, BatchResult>> {
    return readBatch((request) => this.counted(request), {
      objectTypeId: this.object.objectTypeId,
      keys: rows.map((row) => this.idValue(row)),
      idProperty: this.idProperty?.name,
      properties,
      what: 'batch/read',
      gone: this.goneMessage(),
    });
  }

  async compareWithCrm(rows: PendingWrite[]): Promise<CrmComparison[]> {
    const names = [...new Set(rows.flatMap((row) => Object.keys(row.values)))].filter((name) => name !== this.idProperty?.name && !isLinkField(name));
    const records = await this.readRecords(rows, names);
    return rows.map((row): CrmComparison => {
      const record = records.get(this.idValue(row));
      if (!record) return { found: false };
      const changed = Object.keys(row.values).filter((name) => {
        const property = this.object.properties.get(name);
        const held = record.properties?.[name];
        // An if_empty property HubSpot fills is as it should be, whatever the row says.
        if (this.ifEmptyFields.has(name) && holdsValue(held)) return false;
        return name !== this.idProperty?.name && property !== undefined && !sameHubSpotValue(property, String(row.values[name]), held);
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
      response = await this.post(action, { inputs: traced }, { idempotent: action !== 'create' });
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

  private post(action: string, body: unknown, { idempotent }: { idempotent: boolean }): Promise<HubSpotResponse> {
    const checkAnswer = action === 'archive' ? noContent : resultsList;
    return this.counted({ method: 'POST', path: `/crm/v3/objects/${this.object.objectTypeId}/batch/${action}`, body, idempotent, checkAnswer });
  }

  /** Every request this writer makes goes through here: the run report counts them. */
  private counted(request: HubSpotRequest): Promise<HubSpotResponse> {
    this.requests += 1;
    return this.api.request(request);
  }

  private unexpected(what: string, response: HubSpotResponse): Error {
    return unexpectedAnswer(what, response, this.goneMessage());
  }

  private goneMessage(): string {
    return `${this.object.name} no longer exists in HubSpot`;
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

const CONFLICT = 'CONFLICT';

/** HubSpot answers an empty property as null (or leaves it out) or as "". */
function holdsValue(value: unknown): boolean {
  return value !== null && value !== undefined && value !== '';
}

function asStrings(values: Values): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) out[name] = String(value);
  return out;
}
