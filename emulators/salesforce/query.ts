// GET /query?q=SOQL and its follow-up batches (nextRecordsUrl → /query/{locator}-{offset}).
// The result is fixed when the query runs, like a server-side cursor.
import { randomBytes } from 'node:crypto';
import type { EmulatorContext } from './context.js';
import { ApiError } from './errors.js';
import { type ApiRequest, jsonReply, type Reply } from './http.js';
import type { FieldMeta, ObjectMeta } from './org.js';
import { parseSoql, type ParsedQuery } from './soql.js';
import { matches, sortRecords } from './soql-eval.js';
import type { SalesforceRecord } from './types.js';

const DEFAULT_BATCH_SIZE = 2000;
const MIN_BATCH_SIZE = 200;

interface Cursor {
  records: SalesforceRecord[];
  batchSize: number;
}

function batchSizeOf(request: ApiRequest): number {
  const header = String(request.headers['sforce-query-options'] ?? '');
  const asked = Number(/batchSize\s*=\s*(\d+)/i.exec(header)?.[1] ?? DEFAULT_BATCH_SIZE);
  // The platform treats the size as a hint within these bounds.
  return Math.min(DEFAULT_BATCH_SIZE, Math.max(MIN_BATCH_SIZE, asked));
}

function project(context: EmulatorContext, query: ParsedQuery, record: SalesforceRecord): SalesforceRecord {
  const type = query.object.name;
  const out: SalesforceRecord = { attributes: { type, url: `${context.dataPath}/sobjects/${type}/${record.Id}` } };
  for (const field of query.fields) out[field.name] = record[field.name];
  for (const { lookup, fieldByParent } of query.parentFields) addParentField(context, out, lookup, fieldByParent, record);
  return out;
}

/** `Account__r: {attributes, Name}` beside the record's own fields; null when the lookup is empty. */
function addParentField(context: EmulatorContext, out: SalesforceRecord, lookup: FieldMeta, fieldByParent: Map<ObjectMeta, FieldMeta>, record: SalesforceRecord): void {
  const name = lookup.relationshipName!;
  const id = record[lookup.name];
  const parentMeta = typeof id === 'string' ? context.org.objectOfId(id) : undefined;
  const parent = parentMeta ? context.org.table(parentMeta).get(id as string) : undefined;
  if (!parentMeta || !parent) {
    out[name] = null;
    return;
  }
  const nested = (out[name] ??= { attributes: { type: parentMeta.name, url: `${context.dataPath}/sobjects/${parentMeta.name}/${parent.Id}` } }) as SalesforceRecord;
  const field = fieldByParent.get(parentMeta)!;
  nested[field.name] = parent[field.name];
}

function run(context: EmulatorContext, query: ParsedQuery): SalesforceRecord[] {
  const all = [...context.org.table(query.object).values()];
  const filtered = query.where ? all.filter((r) => matches(r, query.where!)) : all;
  const sorted = sortRecords(filtered, query.orderBy);
  const end = query.limit === undefined ? undefined : query.offset + query.limit;
  return sorted.slice(query.offset, end);
}

export class QueryService {
  private readonly cursors = new Map<string, Cursor>();

  constructor(private readonly context: EmulatorContext) {}

  /** GET /query?q= */
  query(request: ApiRequest): Reply {
    const soql = request.query.get('q');
    if (!soql) throw new ApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
    const parsed = parseSoql(soql, (name) => this.context.org.findObject(name));
    const rows = run(this.context, parsed);
    if (parsed.count) return jsonReply(200, { totalSize: rows.length, done: true, records: [] });
    const cursor = { records: rows.map((r) => project(this.context, parsed, r)), batchSize: batchSizeOf(request) };
    return this.batch(this.openCursor(cursor), cursor, 0);
  }

  /** GET /query/{locator}: the locator is the cursor id and the offset of the batch to read. */
  queryMore(request: ApiRequest): Reply {
    const match = /^(01g[A-Za-z0-9]{15})-(\d+)$/.exec(request.params.locator);
    const cursor = match ? this.cursors.get(match[1]) : undefined;
    const offset = Number(match?.[2] ?? 0);
    if (!match || !cursor || offset > cursor.records.length) throw new ApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    return this.batch(match[1], cursor, offset);
  }

  private openCursor(cursor: Cursor): string {
    const id = `01g${randomBytes(12).toString('base64url').replace(/[-_]/g, '0').slice(0, 15)}`;
    this.cursors.set(id, cursor);
    return id;
  }

  private batch(cursorId: string, cursor: Cursor, offset: number): Reply {
    const end = offset + cursor.batchSize;
    const done = end >= cursor.records.length;
    const body: Record<string, unknown> = { totalSize: cursor.records.length, done, records: cursor.records.slice(offset, end) };
    if (done) this.cursors.delete(cursorId);
    else body.nextRecordsUrl = `${this.context.dataPath}/query/${cursorId}-${end}`;
    return jsonReply(200, body);
  }
}
