// sObject Collections: create, update, upsert and delete of up to 200 records in one call.
// A request the platform cannot read (unknown object or field, a value of the wrong JSON type)
// fails whole with 400; otherwise the answer is 200 with one result per record, in order.
import type { EmulatorContext } from './context.js';
import { ApiError, notFound } from './errors.js';
import { coerceJsonValue, type FieldValue } from './field-validation.js';
import { prepareBatch, type PreparedBatch, settle, type WriteKind, type WriteOptions, type WriteResult, type WriteRow } from './dml.js';
import { type ApiRequest, isPlainObject, jsonBody, jsonReply, keyPosition, type Reply } from './http.js';
import { normalizeId } from './ids.js';
import { type FieldMeta, findField, isUpsertKey, type ObjectMeta, type Org } from './org.js';
import { lookupByRelationship, parentKey, RelationshipProblem, resolveParent } from './relationships.js';

const MAX_RECORDS = 200;

interface CollectionBody {
  allOrNone: boolean;
  records: unknown[];
}

interface Slot {
  meta?: ObjectMeta;
  row: WriteRow;
  /** A record refused before any object could be chosen for it. */
  refused?: WriteResult;
}

function refuseOversized(count: number): void {
  if (count > MAX_RECORDS) {
    throw new ApiError(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_RECORDS} records into this call`);
  }
}

function readCollectionBody(request: ApiRequest): CollectionBody {
  const body = jsonBody(request);
  if (!isPlainObject(body)) throw new ApiError(400, 'JSON_PARSER_ERROR', 'Cannot deserialize instance of the request body from a non-object value');
  const unknownKey = Object.keys(body).find((k) => k !== 'allOrNone' && k !== 'records');
  if (unknownKey) throw new ApiError(400, 'JSON_PARSER_ERROR', `Unrecognized field "${unknownKey}"`);
  if (body.allOrNone !== undefined && typeof body.allOrNone !== 'boolean') {
    throw new ApiError(400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of boolean from value ${JSON.stringify(body.allOrNone)}`);
  }
  if (!Array.isArray(body.records)) throw new ApiError(400, 'JSON_PARSER_ERROR', 'Required field "records" is missing or not a list');
  refuseOversized(body.records.length);
  return { allOrNone: body.allOrNone === true, records: body.records };
}

/** Turns JSON records into write rows, counting key occurrences to point errors at the right spot. */
class RecordReader {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly org: Org,
    private readonly rawBody: string,
    /** Where the record's Id goes: the row's target (create, update) or a field value (upsert). */
    private readonly idIsTarget: boolean,
  ) {}

  objectOf(record: unknown): ObjectMeta {
    const type = isPlainObject(record) && isPlainObject(record.attributes) ? record.attributes.type : undefined;
    if (typeof type !== 'string' || type === '') {
      throw new ApiError(400, 'INVALID_TYPE', 'Each record must have an attributes map with a value for type');
    }
    const meta = this.org.findObject(type);
    if (!meta) throw new ApiError(400, 'INVALID_TYPE', `sObject type '${type}' is not supported.`);
    return meta;
  }

  read(meta: ObjectMeta, record: Record<string, unknown>): WriteRow {
    const row: WriteRow = { values: new Map() };
    for (const [key, value] of Object.entries(record)) {
      if (key === 'attributes') continue;
      const field = findField(meta, key);
      const lookup = field ? undefined : lookupByRelationship(meta, key);
      if (lookup) {
        this.readRelationship(row, lookup, key, value);
        continue;
      }
      if (!field) throw new ApiError(400, 'INVALID_FIELD', `No such column '${key}' on sobject of type ${meta.name}`);
      if (field.type === 'reference' && row.values.has(field)) throw new ApiError(400, 'INVALID_FIELD', `Cannot set ${field.name} both directly and through ${field.relationshipName}`);
      const stored = coerceJsonValue(field, value, this.positionOf(key));
      if (field.name === 'Id' && this.idIsTarget) row.id = stored === null ? undefined : String(stored);
      else row.values.set(field, stored);
    }
    return row;
  }

  /** `"Account__r": {"attributes": {"type": "Account"}, "Account_Number__c": "A-1"}`: the parent by its key. */
  private readRelationship(row: WriteRow, lookup: FieldMeta, name: string, value: unknown): void {
    if (!isPlainObject(value)) throw new ApiError(400, 'INVALID_FIELD', `The value provided for foreign key reference ${name} is not a nested SObject`);
    if (row.values.has(lookup)) throw new ApiError(400, 'INVALID_FIELD', `Cannot set ${lookup.name} both directly and through ${name}`);
    const given = isPlainObject(value.attributes) ? value.attributes.type : undefined;
    const type = typeof given === 'string' ? given : undefined;
    if (value.attributes !== undefined && type === undefined) throw new ApiError(400, 'INVALID_TYPE', 'Each record must have an attributes map with a value for type');
    const keys = Object.keys(value).filter((k) => k !== 'attributes');
    if (keys.length !== 1) throw new ApiError(400, 'INVALID_FIELD', `${name} must name its parent by exactly one external id or idLookup field, not ${keys.length}`);
    let parent;
    try {
      parent = parentKey(this.org, lookup, type, keys[0]);
    } catch (error) {
      if (error instanceof RelationshipProblem) throw new ApiError(400, 'INVALID_FIELD', error.message);
      throw error;
    }
    const resolved = resolveParent(this.org, parent, coerceJsonValue(parent.key, value[keys[0]], this.positionOf(keys[0])));
    // The lookup counts as set even when the parent is missing, so setting it directly as well is refused.
    row.values.set(lookup, typeof resolved === 'string' ? resolved : null);
    if (typeof resolved !== 'string') row.error ??= resolved;
  }

  private positionOf(key: string): () => string {
    const nth = this.seen.get(key) ?? 0;
    this.seen.set(key, nth + 1);
    return () => keyPosition(this.rawBody, key, nth);
  }
}

/** Records refused before any object was chosen for them: a batch that can only fail. */
function alreadyFailed(results: WriteResult[]): PreparedBatch {
  return { failed: results.length > 0, commit: () => results, rollBack: () => results };
}

/** Writes slots grouped by object, all together under allOrNone, and answers in request order. */
function writeSlots(org: Org, kind: WriteKind, slots: Slot[], allOrNone: boolean, options: WriteOptions = {}): WriteResult[] {
  const byObject = new Map<ObjectMeta, number[]>();
  const refused: number[] = [];
  slots.forEach((slot, index) => {
    if (!slot.meta) refused.push(index);
    else if (byObject.has(slot.meta)) byObject.get(slot.meta)!.push(index);
    else byObject.set(slot.meta, [index]);
  });
  const groups = [...byObject].map(([meta, indexes]) => ({
    indexes,
    batch: prepareBatch(org, meta, kind, indexes.map((i) => slots[i].row), options),
  }));
  groups.push({ indexes: refused, batch: alreadyFailed(refused.map((i) => slots[i].refused!)) });
  const settled = settle(groups.map((group) => group.batch), allOrNone);
  const results: WriteResult[] = new Array(slots.length);
  groups.forEach((group, g) => group.indexes.forEach((slotIndex, j) => (results[slotIndex] = settled[g][j])));
  return results;
}

function readSlots(context: EmulatorContext, request: ApiRequest, idIsTarget: boolean, onlyObject?: ObjectMeta): { allOrNone: boolean; slots: Slot[] } {
  const { allOrNone, records } = readCollectionBody(request);
  const reader = new RecordReader(context.org, request.rawBody, idIsTarget);
  const slots = records.map((record) => {
    const meta = reader.objectOf(record);
    if (onlyObject && meta !== onlyObject) {
      throw new ApiError(400, 'INVALID_TYPE', `Every record must be of the type named in the URI: ${onlyObject.name}`);
    }
    return { meta, row: reader.read(meta, record as Record<string, unknown>) };
  });
  return { allOrNone, slots };
}

/** POST /composite/sobjects */
export function createRecords(context: EmulatorContext, request: ApiRequest): Reply {
  const { allOrNone, slots } = readSlots(context, request, true);
  return jsonReply(200, writeSlots(context.org, 'insert', slots, allOrNone));
}

/** PATCH /composite/sobjects: each record names its target by id. */
export function updateRecords(context: EmulatorContext, request: ApiRequest): Reply {
  const { allOrNone, slots } = readSlots(context, request, true);
  return jsonReply(200, writeSlots(context.org, 'update', slots, allOrNone));
}

function upsertKeyField(meta: ObjectMeta, name: string): FieldMeta {
  const field = findField(meta, name);
  // Collections upsert matches on external ids (idLookup fields of standard objects), never on record ids.
  if (!field || field.name === 'Id' || !isUpsertKey(meta, field)) {
    throw new ApiError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${name}`);
  }
  return field;
}

/** PATCH /composite/sobjects/{object}/{externalIdField} */
export function upsertRecords(context: EmulatorContext, request: ApiRequest): Reply {
  const meta = context.org.findObject(request.params.object);
  if (!meta) throw notFound();
  const externalIdField = upsertKeyField(meta, request.params.field);
  const { allOrNone, slots } = readSlots(context, request, false, meta);
  return jsonReply(200, writeSlots(context.org, 'upsert', slots, allOrNone, { externalIdField }));
}

function deleteSlot(org: Org, text: string): Slot {
  const id = normalizeId(text);
  const meta = id ? org.objectOfId(id) : undefined;
  if (meta) return { meta, row: { values: new Map<FieldMeta, FieldValue>(), id: text } };
  return {
    row: { values: new Map() },
    refused: { success: false, errors: [{ statusCode: 'MALFORMED_ID', message: `malformed id ${text}`, fields: [] }] },
  };
}

/** DELETE /composite/sobjects?ids=a,b&allOrNone=true */
export function deleteRecords(context: EmulatorContext, request: ApiRequest): Reply {
  const ids = (request.query.get('ids') ?? '').split(',').filter((id) => id !== '');
  if (ids.length === 0) throw new ApiError(400, 'MISSING_ARGUMENT', 'Missing required parameter: ids');
  refuseOversized(ids.length);
  const allOrNone = request.query.get('allOrNone') === 'true';
  const slots = ids.map((id) => deleteSlot(context.org, id));
  return jsonReply(200, writeSlots(context.org, 'delete', slots, allOrNone));
}
