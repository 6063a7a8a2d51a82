// The objects API's single-record endpoints and listing: create (201 with Location), read, update
// and archive one record. Values go through the same checks as the batch endpoints; a merged-away
// id answers for the record it was merged into, as recorded.
import { liveLinks } from './associations.js';
import { HubSpotError, notFound, validationError } from './errors.js';
import { batchWrite, view } from './objects.js';
import type { Portal } from './portal.js';
import type { Reply, StoredRecord, StoredSchema } from './types.js';

type Body = Record<string, any>;

export function createRecord(portal: Portal, schema: StoredSchema, body: Body, apiRoot: string): Reply {
  if (typeof body?.properties !== 'object' || body.properties === null) throw validationError('Invalid input JSON: properties is required');
  const reply = single(batchWrite(portal, schema, 'create', { inputs: [{ properties: body.properties, associations: body.associations }] }), 201);
  const id = (reply.body as Body).id;
  return { ...reply, headers: { location: `${apiRoot}/crm/objects/v3/${schema.name}/${id}` } };
}

export function readRecord(portal: Portal, schema: StoredSchema, id: string, query: URLSearchParams): Reply {
  const record = resolve(portal, schema, id, query.get('idProperty'));
  const properties = query.get('properties')?.split(',').filter(Boolean);
  return { status: 200, body: withAssociations(portal, schema, record, view(record, properties), query) };
}

export function updateRecord(portal: Portal, schema: StoredSchema, id: string, body: Body, query: URLSearchParams): Reply {
  if (typeof body?.properties !== 'object' || body.properties === null) throw validationError('Invalid input JSON: properties is required');
  const record = resolve(portal, schema, id, query.get('idProperty'));
  return single(batchWrite(portal, schema, 'update', { inputs: [{ id: record.id, properties: body.properties }] }), 200);
}

/** HubSpot answers 204 whether or not the record existed. */
export function archiveRecord(portal: Portal, schema: StoredSchema, id: string): Reply {
  const record = portal.recordsOf(schema).get(id);
  if (record) record.archived = true;
  return { status: 204 };
}

export function listRecords(portal: Portal, schema: StoredSchema, query: URLSearchParams): Reply {
  const limit = Number(query.get('limit') ?? 10);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw validationError('limit must be between 1 and 100');
  const archived = query.get('archived') === 'true';
  const rows = [...portal.recordsOf(schema).values()].filter((r) => r.archived === archived && r.mergedInto === undefined);
  const start = Number(query.get('after') ?? 0);
  const properties = query.get('properties')?.split(',').filter(Boolean);
  const page = rows.slice(start, start + limit).map((r) => withAssociations(portal, schema, r, view(r, properties), query));
  const next = start + limit < rows.length ? { paging: { next: { after: String(start + limit), link: '' } } } : {};
  return { status: 200, body: { results: page, ...next } };
}

/**
 * `?associations=contacts,companies`: the record's links to those object types, as the v3 objects
 * API shows them ({<object>: {results: [{id, type}]}}, one entry per association type); object
 * types with no link are left out.
 */
function withAssociations(portal: Portal, schema: StoredSchema, record: StoredRecord, shown: Body, query: URLSearchParams): Body {
  const requested = query.get('associations')?.split(',').filter(Boolean) ?? [];
  const associations: Record<string, { results: { id: string; type: string }[] }> = {};
  for (const name of requested) {
    const target = portal.schemaForApi(name);
    if (!target) throw validationError(`Unable to infer object type from: ${name}`);
    const results = liveLinks(portal, { schema, id: record.id }, target).flatMap(({ to, types }) => types.map((type) => ({ id: to.id, type: type.name })));
    if (results.length > 0) associations[target.standard ? target.name : target.fullyQualifiedName] = { results };
  }
  return Object.keys(associations).length > 0 ? { ...shown, associations } : shown;
}

function resolve(portal: Portal, schema: StoredSchema, id: string, idProperty: string | null): StoredRecord {
  let record: StoredRecord | undefined;
  if (idProperty && idProperty !== 'hs_object_id') {
    if (!schema.properties.get(idProperty)?.hasUniqueValue) {
      throw validationError(`Unable to perform update/upsert by non-unique ${schema.objectTypeId} property ${idProperty} in portal ID ${portal.portalId}`);
    }
    record = portal.findByUnique(schema, idProperty, id);
  } else {
    record = portal.liveRecord(schema, id);
  }
  if (!record) throw notFound('Object not found.  objectId are usually numeric.');
  return record;
}

/** A one-input batch answer as the single-record endpoint gives it: the record, or the input's error. */
function single(reply: Reply, okStatus: number): Reply {
  const body = reply.body as Body;
  if (reply.status === 207 || body.results.length === 0) {
    const error = body.errors?.[0];
    if (!error) throw notFound('Object not found.  objectId are usually numeric.');
    throw new HubSpotError(400, error.category, error.message, error.context ? { context: error.context } : {});
  }
  const { objectWriteTraceId: _trace, new: _new, ...record } = body.results[0];
  return { status: okStatus, body: record };
}
