// sObject Collections: create, update by Id, upsert by external id and delete, 200 records a call,
// never all-or-none, so each record gets its own result. A refusal of a whole call that is about a
// record's content (a value Salesforce cannot read) is split in halves until that record is alone.
// A create whose answer was lost (cut off, timed out, 5xx) is not sent again here: its rows come
// back `unknown`, for the writer to settle by reading them back.
import { asConnectorError, bugError, configError } from '../../errors.js';
import type { RowOutcome } from '../destination.js';
import { mapConcurrently } from '../http/concurrency.js';
import { isAmbiguous } from '../http/network.js';
import type { ApiAnswer, ApiFailure, ApiDoor, SalesforceRequest } from './api.js';
import { NOT_ACKNOWLEDGED, outcomeOf, type SaveResult, type WriteKind } from './outcomes.js';
import { UNKNOWN_OUTCOME } from '../mode-writer.js';
import { type ParentLinks, relationshipMember } from './relationships.js';
import { findField, type SalesforceObject } from './schema.js';
import { toJsonValue, type SalesforceValue } from './values.js';

export const COLLECTION_MAX = 200;
/** Collection calls of one write in flight at once. */
const CONCURRENT_CALLS = 4;
/** Refusals about the call itself (object or field gone, bad URI): splitting it cannot help. */
const REQUEST_LEVEL = new Set(['NOT_FOUND', 'INVALID_TYPE', 'INVALID_FIELD', 'METHOD_NOT_ALLOWED', 'EXCEEDED_ID_LIMIT', 'MISSING_ARGUMENT']);

/** One record to write: its Id (update, delete) and the fields to set. */
export interface RecordWrite {
  id?: string;
  values: Record<string, SalesforceValue>;
}

export class Collections {
  constructor(
    private readonly api: ApiDoor,
    private readonly object: SalesforceObject,
    /** Upsert only: the external-id field records are matched by. */
    private readonly externalIdField?: string,
    /** Reference fields set through their parent's key: sent as the relationship, `Account__r: {Key__c: …}`. */
    private readonly links: ParentLinks = new Map(),
  ) {}

  async write(kind: WriteKind, records: RecordWrite[]): Promise<RowOutcome[]> {
    const chunks: RecordWrite[][] = [];
    for (let i = 0; i < records.length; i += COLLECTION_MAX) chunks.push(records.slice(i, i + COLLECTION_MAX));
    const outcomes = await mapConcurrently(chunks, CONCURRENT_CALLS, (chunk) => this.send(kind, chunk));
    return outcomes.flat();
  }

  private async send(kind: WriteKind, records: RecordWrite[]): Promise<RowOutcome[]> {
    let answer: ApiAnswer<SaveResult[]>;
    try {
      answer = await this.api.request<SaveResult[]>(this.requestFor(kind, records));
    } catch (error) {
      const failure = asConnectorError(error);
      if (kind !== 'create' || !isAmbiguous(failure)) throw error;
      return records.map(() => ({ status: 'unknown', code: UNKNOWN_OUTCOME, message: failure.message }));
    }
    if (answer.ok) return reconcile(kind, answer.body, records.length);
    this.raiseIfRequestLevel(kind, answer.failure);
    if (records.length === 1) return [{ status: 'rejected', code: answer.failure.errorCode, message: answer.failure.message, ...fieldOf(answer.failure) }];
    const half = Math.ceil(records.length / 2);
    return [...(await this.send(kind, records.slice(0, half))), ...(await this.send(kind, records.slice(half)))];
  }

  private requestFor(kind: WriteKind, records: RecordWrite[]): SalesforceRequest {
    const checkAnswer = oneResultPerRecord(records.length);
    if (kind === 'delete') {
      const ids = records.map((r) => encodeURIComponent(r.id!)).join(',');
      return { method: 'DELETE', path: `/composite/sobjects?ids=${ids}&allOrNone=false`, idempotent: true, checkAnswer };
    }
    const body = { allOrNone: false, records: records.map((record) => this.jsonRecord(record)) };
    if (kind === 'create') return { method: 'POST', path: '/composite/sobjects', body, idempotent: false, checkAnswer };
    if (kind === 'update') return { method: 'PATCH', path: '/composite/sobjects', body, idempotent: true, checkAnswer };
    return { method: 'PATCH', path: `/composite/sobjects/${this.object.name}/${this.externalIdField}`, body, idempotent: true, checkAnswer };
  }

  private jsonRecord(record: RecordWrite): Record<string, unknown> {
    const json: Record<string, unknown> = { attributes: { type: this.object.name } };
    if (record.id !== undefined) json.Id = record.id;
    for (const [name, value] of Object.entries(record.values)) {
      const link = this.links.get(name);
      if (link) {
        const [member, relationship] = relationshipMember(link, value);
        json[member] = relationship;
        continue;
      }
      const field = findField(this.object, name);
      json[name] = field ? toJsonValue(field, value) : value;
    }
    return json;
  }

  private raiseIfRequestLevel(kind: WriteKind, failure: ApiFailure): void {
    if (failure.errorCode === 'EXCEEDED_ID_LIMIT') throw bugError(`more than ${COLLECTION_MAX} records in one collection call: ${failure.message}`);
    if (REQUEST_LEVEL.has(failure.errorCode)) {
      throw configError(`Salesforce refused to ${kind} ${this.object.name} records: ${failure.errorCode}: ${failure.message}`, { code: failure.errorCode });
    }
  }
}

/** Salesforce answers a list of one result per record sent: anything else is not its answer. */
function oneResultPerRecord(count: number): (body: unknown) => string | undefined {
  return (body) => {
    if (!Array.isArray(body)) return 'no list of results';
    return body.length === count ? undefined : `${body.length} results for ${count} records`;
  };
}

/** Salesforce answers one result per record, in request order; a record without one is not acknowledged. */
function reconcile(kind: WriteKind, results: SaveResult[] | undefined, count: number): RowOutcome[] {
  const list = Array.isArray(results) ? results : [];
  return Array.from({ length: count }, (_, i) => (list[i] ? outcomeOf(kind, list[i]) : { status: 'rejected', ...NOT_ACKNOWLEDGED }));
}

function fieldOf(failure: ApiFailure): { field?: string } {
  return failure.fields[0] ? { field: failure.fields[0] } : {};
}
