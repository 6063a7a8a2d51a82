// The objects API's batch endpoints, applied to the portal with HubSpot's rules: 100 inputs at
// most, per-input validation errors as a 207 (the valid inputs are applied), unique-value
// conflicts as a whole-batch 409 (nothing applied), idProperty only for unique properties, and
// (as recorded) an update of an unknown or merged-away id left out of the results without an error.
import { inlineAssociations, linkInline, type InlineAssociation } from './associations.js';
import { HubSpotError, validationError } from './errors.js';
import type { Portal } from './portal.js';
import type { Reply, StoredRecord, StoredSchema } from './types.js';
import { validateValue, type ValueProblem } from './values.js';

export const BATCH_LIMIT = 100;
type Body = Record<string, any>;
type Action = 'create' | 'update' | 'upsert';

interface Planned {
  index: number;
  input: Body;
  target?: StoredRecord;
  properties: Record<string, string>;
  /** Create only: links to make once the record exists. */
  associations: InlineAssociation[];
}

export function batchWrite(portal: Portal, schema: StoredSchema, action: Action, body: Body): Reply {
  const inputs = batchInputs(body);
  const startedAt = new Date().toISOString();
  const idProperty = action === 'create' ? undefined : checkIdProperty(portal, schema, body, inputs, action);
  if (action !== 'create') refuseDuplicateIds(inputs);
  const errors: unknown[] = [];
  const planned: Planned[] = [];
  inputs.forEach((input, index) => {
    const target = action === 'create' ? undefined : findTarget(portal, schema, String(input.id), idProperty);
    if (action === 'update' && !target) return;
    // An upsert that creates writes its id into the idProperty, checked like any other value.
    const raw = action === 'upsert' && !target ? { [idProperty!]: String(input.id), ...input.properties } : input.properties;
    const problems: ValueProblem[] = [];
    const properties = validProperties(portal, schema, raw, problems);
    if (!target) problems.push(...missingRequired(portal, schema, properties));
    if (problems.length > 0) return errors.push(validationFailure(input, problems));
    const associations = action === 'create' ? inlineAssociations(portal, schema, input.associations) : [];
    if ('error' in associations) return errors.push(traced(input, associations.error));
    planned.push({ index, input, target, properties, associations });
  });
  refuseUniqueConflicts(portal, schema, planned);
  const results = planned.map((p) => apply(portal, schema, action, p));
  const ok = action === 'create' ? 201 : 200;
  const completedAt = new Date().toISOString();
  if (errors.length === 0) return { status: ok, body: { status: 'COMPLETE', results, startedAt, completedAt } };
  return { status: 207, body: { status: 'COMPLETE', results, numErrors: errors.length, errors, startedAt, completedAt } };
}

export function batchRead(portal: Portal, schema: StoredSchema, body: Body, includeArchived: boolean): Reply {
  const inputs = batchInputs(body, false);
  if (!Array.isArray(body.properties) || !Array.isArray(body.propertiesWithHistory)) throw validationError('properties and propertiesWithHistory are required');
  const idProperty = typeof body.idProperty === 'string' ? uniqueProperty(portal, schema, body.idProperty) : undefined;
  const startedAt = new Date().toISOString();
  const results: unknown[] = [];
  const missing: string[] = [];
  for (const input of inputs) {
    const record = findTarget(portal, schema, String(input.id), idProperty, includeArchived);
    if (record) results.push(view(record, body.properties));
    else missing.push(String(input.id));
  }
  const completedAt = new Date().toISOString();
  if (missing.length === 0) return { status: 200, body: { status: 'COMPLETE', results, startedAt, completedAt } };
  const error = { status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some CRM objects, they may be deleted or not exist. Check that ids are valid.', context: { ids: missing } };
  return { status: 207, body: { status: 'COMPLETE', results, numErrors: 1, errors: [error], startedAt, completedAt } };
}

export function batchArchive(portal: Portal, schema: StoredSchema, body: Body): Reply {
  for (const input of batchInputs(body, false)) {
    const record = portal.recordsOf(schema).get(String(input.id));
    if (record) record.archived = true;
  }
  return { status: 204 };
}

function batchInputs(body: Body, needsProperties = true): Body[] {
  if (typeof body !== 'object' || body === null || !Array.isArray(body.inputs)) throw validationError('Invalid input JSON on line 1: inputs is required');
  checkBatchSize(body.inputs);
  for (const input of body.inputs) {
    if (typeof input !== 'object' || input === null) throw validationError('every input must be an object');
    if (needsProperties && (typeof input.properties !== 'object' || input.properties === null || Array.isArray(input.properties))) throw validationError('every input needs properties');
    if (!needsProperties && (input.id === undefined || input.id === null)) throw validationError('every input needs an id');
  }
  return body.inputs;
}

/** Every batch endpoint takes 1 to BATCH_LIMIT inputs; more fails the whole request. */
export function checkBatchSize(inputs: unknown[]): void {
  if (inputs.length === 0) throw validationError('inputs must not be empty');
  if (inputs.length > BATCH_LIMIT) throw validationError(`Batch input size exceeded. Maximum inputs: ${BATCH_LIMIT}`, { context: { maxInputs: [String(BATCH_LIMIT)] } });
}

function checkIdProperty(portal: Portal, schema: StoredSchema, body: Body, inputs: Body[], action: Action): string | undefined {
  const named = new Set(inputs.map((input) => input.idProperty).filter((p) => p !== undefined));
  if (named.size > 1) throw validationError('all inputs must use the same idProperty');
  const idProperty = [...named][0] as string | undefined;
  if (action === 'upsert' && !idProperty) throw validationError('idProperty is required for upsert');
  for (const input of inputs) if (input.id === undefined || input.id === null || input.id === '') throw validationError('every input needs an id');
  return idProperty === undefined ? undefined : uniqueProperty(portal, schema, idProperty);
}

function uniqueProperty(portal: Portal, schema: StoredSchema, name: string): string {
  const property = schema.properties.get(name);
  if (!property?.hasUniqueValue) {
    throw validationError(`Unable to perform update/upsert by non-unique ${schema.objectTypeId} property ${name} in portal ID ${portal.portalId}`);
  }
  return name;
}

function refuseDuplicateIds(inputs: Body[]): void {
  const ids = inputs.map((input) => String(input.id));
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) throw validationError(`Duplicate IDs found in batch input: [${duplicate}]. IDs must be unique`);
}

function validProperties(portal: Portal, schema: StoredSchema, raw: Record<string, unknown>, problems: ValueProblem[]): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    const checked = validateValue(schema.properties.get(name), name, value, portal.portalId);
    if ('problem' in checked) problems.push(checked.problem);
    else properties[name] = checked.value;
  }
  return properties;
}

/** A record created here must carry the object's required properties. */
export function missingRequired(portal: Portal, schema: StoredSchema, properties: Record<string, string>): ValueProblem[] {
  return schema.requiredProperties
    .filter((name) => properties[name] === undefined || properties[name] === '')
    .map((name) => ({ isValid: false, message: `${name} is required`, error: 'REQUIRED_FIELD', name, localizedErrorMessage: `${name} is required`, portalId: portal.portalId }));
}

function findTarget(portal: Portal, schema: StoredSchema, id: string, idProperty?: string, includeArchived = false): StoredRecord | undefined {
  if (idProperty) return portal.findByUnique(schema, idProperty, id);
  const record = portal.recordsOf(schema).get(id);
  if (record?.mergedInto !== undefined) return undefined;
  return record && (includeArchived || !record.archived) ? record : undefined;
}

/** A unique value may belong to one live record: taken elsewhere or twice in the batch fails the whole batch. */
function refuseUniqueConflicts(portal: Portal, schema: StoredSchema, planned: Planned[]): void {
  const unique = [...schema.properties.values()].filter((p) => p.hasUniqueValue).map((p) => p.name);
  for (const name of unique) {
    const claimed = new Map<string, Planned>();
    for (const entry of planned) {
      const value = entry.properties[name];
      if (value === undefined || value === '') continue;
      const holder = portal.findByUnique(schema, name, value);
      const sameBatch = claimed.get(value);
      if ((holder && holder !== entry.target) || (sameBatch && sameBatch.target === undefined && entry.target === undefined) || (sameBatch && sameBatch !== entry)) {
        const existing = holder ? ` Existing ID: ${holder.id}` : '';
        throw new HubSpotError(409, 'CONFLICT', `A ${schema.name} with ${name} "${value}" already exists.${existing}`, { context: { objectWriteTraceId: [entry.input.objectWriteTraceId].filter(Boolean) } });
      }
      claimed.set(value, entry);
    }
  }
}

function apply(portal: Portal, schema: StoredSchema, action: Action, entry: Planned): Body {
  const created = !entry.target;
  const record = entry.target ?? portal.insert(schema, entry.properties);
  if (!created) portal.update(record, entry.properties);
  linkInline(portal, { schema, id: record.id }, entry.associations);
  const result: Body = view(record);
  if (entry.input.objectWriteTraceId !== undefined) result.objectWriteTraceId = entry.input.objectWriteTraceId;
  if (action === 'upsert') result.new = created;
  return result;
}

export function view(record: StoredRecord, properties?: string[]): Body {
  const names = properties && properties.length > 0 ? [...properties, 'hs_object_id', 'hs_createdate', 'hs_lastmodifieddate'] : Object.keys(record.properties);
  const shown: Record<string, string | null> = {};
  for (const name of names) shown[name] = record.properties[name] ?? null;
  return { id: record.id, properties: shown, createdAt: record.createdAt, updatedAt: record.updatedAt, archived: record.archived, url: record.url };
}

/** An input's error, tied to it by objectWriteTraceId as HubSpot does. */
function traced(input: Body, error: Body): Body {
  return input.objectWriteTraceId === undefined ? error : { ...error, context: { ...error.context, objectWriteTraceId: [String(input.objectWriteTraceId)] } };
}

function validationFailure(input: Body, problems: ValueProblem[]): Body {
  return {
    status: 'error', category: 'VALIDATION_ERROR',
    message: `Property values were not valid: ${JSON.stringify(problems)}`,
    context: input.objectWriteTraceId !== undefined ? { objectWriteTraceId: [String(input.objectWriteTraceId)] } : {},
  };
}
