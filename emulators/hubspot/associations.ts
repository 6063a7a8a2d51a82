// Associations v4: the links between records and the endpoints that make, read and remove them.
// Batch create answers 201, or 207 when some inputs name a record or type that does not exist (the
// valid inputs land); associate/default answers 200 with any errors inside; batch/read 200 or 207;
// archive and labels/archive 204. A request that cannot be read (no inputs, more than 100, an input
// without from/to/types, an object type that does not exist) fails whole with 400.
import { CATEGORIES, typeView, type AssociationType } from './association-types.js';
import { HubSpotError, notFound, validationError } from './errors.js';
import { checkBatchSize } from './objects.js';
import type { Portal } from './portal.js';
import type { Reply, StoredSchema } from './types.js';

type Body = Record<string, any>;

interface RecordRef {
  schema: StoredSchema;
  id: string;
}

/** The links, both directions stored: A→B with a type always comes with B→A with its inverse. */
export class AssociationLinks {
  private readonly outgoing = new Map<string, Map<string, { to: RecordRef; types: Set<AssociationType> }>>();

  add(from: RecordRef, to: RecordRef, type: AssociationType): void {
    this.entry(from, to).types.add(type);
    this.entry(to, from).types.add(type.inverse);
  }

  /** Removes the given types both ways, or every type when none are given. */
  remove(from: RecordRef, to: RecordRef, types?: AssociationType[]): void {
    for (const type of types ?? [...this.typesBetween(from, to)]) {
      this.drop(from, to, type);
      this.drop(to, from, type.inverse);
    }
  }

  /** HubSpot's merge: the merged record's links move to the record it was merged into. */
  moveAll(from: RecordRef, to: RecordRef): void {
    for (const link of this.linksFrom(from)) {
      const types = link.types;
      this.remove(from, link.to, types);
      const target = link.to.schema === from.schema && link.to.id === to.id ? undefined : link.to;
      if (target) for (const type of types) this.add(to, target, type);
    }
  }

  typesBetween(from: RecordRef, to: RecordRef): AssociationType[] {
    return [...(this.outgoing.get(refKey(from))?.get(refKey(to))?.types ?? [])];
  }

  /** Every record `from` links to, optionally only those of one object type. */
  linksFrom(from: RecordRef, toSchema?: StoredSchema): { to: RecordRef; types: AssociationType[] }[] {
    const links = [...(this.outgoing.get(refKey(from))?.values() ?? [])];
    return links.filter((link) => !toSchema || link.to.schema === toSchema).map((link) => ({ to: link.to, types: [...link.types] }));
  }

  private entry(from: RecordRef, to: RecordRef) {
    let targets = this.outgoing.get(refKey(from));
    if (!targets) this.outgoing.set(refKey(from), (targets = new Map()));
    let link = targets.get(refKey(to));
    if (!link) targets.set(refKey(to), (link = { to, types: new Set() }));
    return link;
  }

  private drop(from: RecordRef, to: RecordRef, type: AssociationType): void {
    const targets = this.outgoing.get(refKey(from));
    const link = targets?.get(refKey(to));
    if (!link) return;
    link.types.delete(type);
    if (link.types.size === 0) targets!.delete(refKey(to));
  }
}

function refKey(ref: RecordRef): string {
  return `${ref.schema.objectTypeId}:${ref.id}`;
}

/** /crm/v4/associations/{from}/{to}/... (and the schema API's /crm/associations/v4/{from}/{to}/labels). */
export function associationsRoute(portal: Portal, method: string, from: StoredSchema, to: StoredSchema, rest: string[], body: Body): Reply {
  const action = rest.join('/');
  if (action === 'labels' && method === 'GET') return { status: 200, body: { results: portal.associationTypes.between(from, to).map(typeView) } };
  if (action === 'labels' && method === 'POST') return { status: 200, body: { results: portal.associationTypes.createLabel(from, to, body).map(typeView) } };
  if (method === 'POST') {
    switch (action) {
      case 'batch/create': return batchCreate(portal, from, to, body);
      case 'batch/associate/default': return batchAssociateDefault(portal, from, to, body);
      case 'batch/read': return batchReadAssociations(portal, from, to, body);
      case 'batch/archive': return batchArchiveAssociations(portal, from, to, body);
      case 'batch/labels/archive': return batchArchiveLabels(portal, from, to, body);
    }
  }
  throw new HubSpotError(405, 'METHOD_NOT_ALLOWED', `${method} /crm/v4/associations/${from.objectTypeId}/${to.objectTypeId}/${action} is not supported by the emulator`);
}

/** /crm/v4/objects/{from}/{id}/associations/...: one record's links. */
export function recordAssociationsRoute(portal: Portal, method: string, from: StoredSchema, fromId: string, rest: string[], body: unknown, toSchema: (name: string) => StoredSchema): Reply {
  const isDefault = rest[0] === 'default';
  const [toName, toId] = isDefault ? rest.slice(1) : rest;
  if (!toName) throw new HubSpotError(405, 'METHOD_NOT_ALLOWED', `${method} is not supported here`);
  const to = toSchema(toName);
  if (isDefault && method === 'PUT' && toId) return batchAssociateDefault(portal, from, to, { inputs: [{ from: { id: fromId }, to: { id: toId } }] });
  if (!isDefault && method === 'GET' && !toId) return listOneRecord(portal, from, fromId, to);
  if (!isDefault && method === 'DELETE' && toId) {
    portal.associationLinks.remove({ schema: from, id: fromId }, { schema: to, id: toId });
    return { status: 204 };
  }
  if (!isDefault && method === 'PUT' && toId) return createOne(portal, from, fromId, to, toId, body);
  throw new HubSpotError(405, 'METHOD_NOT_ALLOWED', `${method} is not supported here`);
}

function batchCreate(portal: Portal, from: StoredSchema, to: StoredSchema, body: Body): Reply {
  const startedAt = new Date().toISOString();
  const { results, errors } = linkEach(portal, from, to, associationInputs(body),
    (input, errors) => requestedTypes(portal, from, to, input.types, errors),
    (fromRef, toRef) => [linkView(portal, fromRef, toRef)]);
  return batchReply(errors.length === 0 ? 201 : 207, results, errors, startedAt);
}

/** The unlabeled default type; the answer lists both directions of every link made. */
function batchAssociateDefault(portal: Portal, from: StoredSchema, to: StoredSchema, body: unknown): Reply {
  const inputs = associationInputs(body, false);
  const type = portal.associationTypes.defaultBetween(from, to);
  if (!type) throw validationError(`There is no default association type from ${from.objectTypeId} to ${to.objectTypeId}`);
  const startedAt = new Date().toISOString();
  const { results, errors } = linkEach(portal, from, to, inputs, () => [type],
    (fromRef, toRef) => [defaultView(fromRef, toRef, type), defaultView(toRef, fromRef, type.inverse)]);
  return batchReply(200, results, errors, startedAt);
}

/** Links each input's records with its types; an input naming a missing record or an undefined type fails alone. */
function linkEach(
  portal: Portal, from: StoredSchema, to: StoredSchema, inputs: Body[],
  typesOf: (input: Body, errors: unknown[]) => AssociationType[] | undefined,
  answer: (from: RecordRef, to: RecordRef) => unknown[],
): { results: unknown[]; errors: unknown[] } {
  const results: unknown[] = [];
  const errors: unknown[] = [];
  for (const input of inputs) {
    const fromRef = { schema: from, id: objectId(input.from, 'from') };
    const toRef = { schema: to, id: objectId(input.to, 'to') };
    const types = typesOf(input, errors);
    if (!types) continue;
    const missing = missingRecords(portal, [fromRef, toRef]);
    if (missing.length > 0) {
      errors.push(invalidIds(missing));
      continue;
    }
    const [liveFrom, liveTo] = [survivor(portal, fromRef), survivor(portal, toRef)];
    link(portal, liveFrom, liveTo, types);
    results.push(...answer(liveFrom, liveTo));
  }
  return { results, errors };
}

function batchReadAssociations(portal: Portal, from: StoredSchema, to: StoredSchema, body: Body): Reply {
  if (!isObject(body) || !Array.isArray(body.inputs)) throw validationError('Invalid input JSON on line 1: inputs is required');
  checkBatchSize(body.inputs);
  const startedAt = new Date().toISOString();
  const results: unknown[] = [];
  const errors: unknown[] = [];
  for (const input of body.inputs) {
    const given = isObject(input) ? input.id : undefined;
    if (typeof given !== 'string' && typeof given !== 'number') throw validationError('Invalid input JSON on line 1: Some required fields were not set: [id]');
    const id = String(given);
    if (!/^\d+$/.test(id)) {
      errors.push({
        status: 'error', category: 'VALIDATION_ERROR', subCategory: 'crm.associations.INVALID_IDENTIFIER',
        message: `${id} is not a valid ${objectName(from)} identifier`, context: { fromObjectId: [id] },
      });
      continue;
    }
    const links = liveLinks(portal, { schema: from, id }, to);
    if (links.length === 0) {
      errors.push({
        status: 'error', category: 'OBJECT_NOT_FOUND', subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
        message: `No ${objectName(to)} is associated with ${objectName(from)} ${id}.`,
        context: { fromObjectId: [id], fromObjectType: [objectName(from)], toObjectType: [objectName(to)] },
      });
      continue;
    }
    results.push({ from: { id }, to: links.map(({ to: target, types }) => ({ toObjectId: Number(target.id), associationTypes: types.map(typeView) })) });
  }
  return batchReply(errors.length === 0 ? 200 : 207, results, errors, startedAt);
}

/** Removes every type between the records named; ids that do not exist or are not linked are no error. */
function batchArchiveAssociations(portal: Portal, from: StoredSchema, to: StoredSchema, body: Body): Reply {
  for (const input of associationInputs(body, false, true)) {
    const fromRef = { schema: from, id: objectId(input.from, 'from') };
    for (const target of input.to) portal.associationLinks.remove(fromRef, { schema: to, id: objectId(target, 'to[]') });
  }
  return { status: 204 };
}

/** Removes the types named; removing the unlabeled default removes the whole association. */
function batchArchiveLabels(portal: Portal, from: StoredSchema, to: StoredSchema, body: Body): Reply {
  const removals = associationInputs(body).map((input) => {
    const errors: Body[] = [];
    const types = requestedTypes(portal, from, to, input.types, errors);
    if (!types) throw new HubSpotError(400, 'VALIDATION_ERROR', errors[0].message, { subCategory: errors[0].subCategory, context: errors[0].context });
    return { fromRef: { schema: from, id: objectId(input.from, 'from') }, toRef: { schema: to, id: objectId(input.to, 'to') }, types };
  });
  for (const { fromRef, toRef, types } of removals) {
    portal.associationLinks.remove(fromRef, toRef, types.some((type) => type.isDefault) ? undefined : types);
  }
  return { status: 204 };
}

function createOne(portal: Portal, from: StoredSchema, fromId: string, to: StoredSchema, toId: string, body: unknown): Reply {
  if (!Array.isArray(body)) throw validationError('Invalid input JSON on line 1, column 1: Cannot deserialize value of type `java.util.HashSet<AssociationSpec>` from a non-array value');
  const errors: unknown[] = [];
  const fromRef = { schema: from, id: fromId };
  const toRef = { schema: to, id: toId };
  const types = requestedTypes(portal, from, to, body, errors);
  if (!types) throw new HubSpotError(400, 'VALIDATION_ERROR', (errors[0] as Body).message, { subCategory: (errors[0] as Body).subCategory, context: (errors[0] as Body).context });
  const missing = missingRecords(portal, [fromRef, toRef]);
  if (missing.length > 0) {
    const { message, context } = invalidIds(missing);
    throw new HubSpotError(400, 'VALIDATION_ERROR', message, { context });
  }
  const [liveFrom, liveTo] = [survivor(portal, fromRef), survivor(portal, toRef)];
  link(portal, liveFrom, liveTo, types);
  return { status: 201, body: linkView(portal, liveFrom, liveTo) };
}

function listOneRecord(portal: Portal, from: StoredSchema, fromId: string, to: StoredSchema): Reply {
  if (!portal.liveRecord(from, fromId)) throw notFound(`${objectName(from)} ${fromId} does not exist`);
  const links = liveLinks(portal, { schema: from, id: fromId }, to);
  return { status: 200, body: { results: links.map(({ to: target, types }) => ({ toObjectId: Number(target.id), associationTypes: types.map(typeView) })) } };
}

/** One entry of `associations` in an object create: the record to link to and the types. */
export interface InlineAssociation {
  to: RecordRef;
  types: AssociationType[];
}

/**
 * Checks the `associations` of an object create input (`[{to: {id}, types: [spec]}]`; the target
 * object type follows from the type ids). Returns the links to make once the record exists, or the
 * error that fails the input.
 */
export function inlineAssociations(portal: Portal, from: StoredSchema, given: unknown): InlineAssociation[] | { error: Body } {
  if (given === undefined) return [];
  if (!Array.isArray(given)) throw validationError('Invalid input JSON on line 1: associations must be a list');
  const planned: InlineAssociation[] = [];
  for (const entry of given) {
    const id = objectId(isObject(entry) ? entry.to : undefined, 'associations[].to');
    if (!Array.isArray(entry.types) || entry.types.length === 0) throw validationError('Invalid input JSON on line 1: Some required fields were not set: [types]');
    const types: AssociationType[] = [];
    for (const spec of entry.types) {
      const { category, typeId } = readSpec(spec);
      const type = portal.associationTypes.findFrom(from, category, typeId);
      if (!type || (types[0] && type.toObjectTypeId !== types[0].toObjectTypeId)) {
        return { error: unknownType(category, typeId, from, types[0] ? portal.schemaForApi(types[0].toObjectTypeId) : undefined) };
      }
      types.push(type);
    }
    const to = { schema: portal.schemaForApi(types[0].toObjectTypeId)!, id };
    if (missingRecords(portal, [to]).length > 0) return { error: invalidIds([to]) };
    planned.push({ to: survivor(portal, to), types });
  }
  return planned;
}

export function linkInline(portal: Portal, from: RecordRef, planned: InlineAssociation[]): void {
  for (const { to, types } of planned) link(portal, from, to, types);
}

/** The type plus the pair's unlabeled default, which HubSpot records beside every label. */
function link(portal: Portal, from: RecordRef, to: RecordRef, types: AssociationType[]): void {
  const unlabeled = portal.associationTypes.defaultBetween(from.schema, to.schema);
  for (const type of unlabeled ? [unlabeled, ...types] : types) portal.associationLinks.add(from, to, type);
}

/** Links to records that are still live (an archived record's links are not shown). */
export function liveLinks(portal: Portal, from: RecordRef, to?: StoredSchema): { to: RecordRef; types: AssociationType[] }[] {
  const live = portal.liveRecord(from.schema, from.id);
  if (!live) return [];
  return portal.associationLinks.linksFrom({ schema: from.schema, id: live.id }, to).filter((l) => portal.liveRecord(l.to.schema, l.to.id) && l.types.length > 0);
}

function linkView(portal: Portal, from: RecordRef, to: RecordRef) {
  const labels = portal.associationLinks.typesBetween(from, to).map((type) => type.label).filter((label): label is string => label !== null);
  return { fromObjectTypeId: from.schema.objectTypeId, fromObjectId: Number(from.id), toObjectTypeId: to.schema.objectTypeId, toObjectId: Number(to.id), labels };
}

function defaultView(from: RecordRef, to: RecordRef, type: AssociationType) {
  return { from: { id: from.id }, to: { id: to.id }, associationSpec: { associationCategory: type.category, associationTypeId: type.typeId } };
}

/**
 * The types an input asks for, or undefined after recording why one cannot be used (a category or
 * id not defined for this pair: another pair's label, a typo, the wrong category).
 */
function requestedTypes(portal: Portal, from: StoredSchema, to: StoredSchema, specs: unknown, errors: unknown[]): AssociationType[] | undefined {
  if (!Array.isArray(specs) || specs.length === 0) throw validationError('Invalid input JSON on line 1: Some required fields were not set: [types]');
  const types: AssociationType[] = [];
  for (const spec of specs) {
    const { category, typeId } = readSpec(spec);
    const type = portal.associationTypes.find(from, to, category, typeId);
    if (!type) {
      errors.push(unknownType(category, typeId, from, to));
      return undefined;
    }
    types.push(type);
  }
  return types;
}

function readSpec(spec: unknown): { category: string; typeId: number } {
  const category = isObject(spec) ? spec.associationCategory : undefined;
  const typeId = isObject(spec) ? spec.associationTypeId : undefined;
  if (!CATEGORIES.has(category) || !Number.isInteger(typeId)) {
    throw validationError('Invalid input JSON on line 1: Some required fields were not set: [associationCategory, associationTypeId]');
  }
  return { category, typeId };
}

/** How HubSpot numbers categories in a type's "<category>-<id>" form (A: only 0 for HUBSPOT_DEFINED is seen in public sources). */
const CATEGORY_NUMBER: Record<string, number> = { HUBSPOT_DEFINED: 0, USER_DEFINED: 1, INTEGRATOR_DEFINED: 2, WORK: 3 };

/** A type not defined between the objects, in the shape of crm.associations.INVALID_ASSOCIATION_TYPE answers. */
function unknownType(category: string, typeId: number, from: StoredSchema, to: StoredSchema | undefined): Body {
  const type = `${CATEGORY_NUMBER[category]}-${typeId}`;
  const toName = to ? objectName(to).toUpperCase() : 'ANY';
  return {
    status: 'error', category: 'VALIDATION_ERROR', subCategory: 'crm.associations.INVALID_ASSOCIATION_TYPE',
    message: `${type} is not a valid association type between ${objectName(from).toUpperCase()} and ${toName}`,
    context: { type: [type], fromObjectType: [objectName(from).toUpperCase()], toObjectType: [toName] },
  };
}

/** A merged-away id stands for the record it was merged into, as HubSpot answers for it. */
function survivor(portal: Portal, ref: RecordRef): RecordRef {
  return { schema: ref.schema, id: portal.liveRecord(ref.schema, ref.id)!.id };
}

function missingRecords(portal: Portal, refs: RecordRef[]): RecordRef[] {
  return refs.filter((ref) => !portal.liveRecord(ref.schema, ref.id));
}

/** The error HubSpot gives for ids that name no record (as reported in hubspot-api-nodejs#646). */
function invalidIds(missing: RecordRef[]) {
  return {
    status: 'error', category: 'VALIDATION_ERROR', message: 'One or more associations are invalid',
    context: {
      INVALID_OBJECT_IDS: missing.map((ref) => `${objectName(ref.schema).toUpperCase()}=${ref.id} is not valid`),
      objectId: missing.map((ref) => ref.id),
      objectType: missing.map((ref) => objectName(ref.schema).toUpperCase()),
    },
  };
}

/** CONTACT, COMPANY, … for standard objects; the objectTypeId of a custom object. */
function objectName(schema: StoredSchema): string {
  return schema.standard ? schema.labels.singular.toLowerCase() : schema.objectTypeId;
}

/**
 * The inputs of a batch, every one checked for form before any is applied: a request that cannot
 * be read changes nothing.
 */
function associationInputs(body: unknown, needsTypes = true, toIsList = false): Body[] {
  if (!isObject(body) || !Array.isArray(body.inputs)) throw validationError('Invalid input JSON on line 1: inputs is required');
  checkBatchSize(body.inputs);
  for (const input of body.inputs) {
    if (!isObject(input) || !isObject(input.from)) throw validationError('Invalid input JSON on line 1: Some required fields were not set: [from]');
    if (toIsList ? !Array.isArray(input.to) : !isObject(input.to)) throw validationError('Invalid input JSON on line 1: Some required fields were not set: [to]');
    objectId(input.from, 'from');
    for (const to of toIsList ? input.to : [input.to]) objectId(to, 'to');
    if (!needsTypes) continue;
    if (!Array.isArray(input.types) || input.types.length === 0) throw validationError('Invalid input JSON on line 1: Some required fields were not set: [types]');
    input.types.forEach(readSpec);
  }
  return body.inputs;
}

/** A record id as inputs carry it ({id}), a numeric string or number. */
function objectId(ref: unknown, where: string): string {
  const id = isObject(ref) ? ref.id : undefined;
  if ((typeof id !== 'string' && typeof id !== 'number') || !/^\d+$/.test(String(id))) {
    throw validationError(`Invalid input JSON on line 1: ${where}.id must be a record id, got ${JSON.stringify(id)}`);
  }
  return String(id);
}

function batchReply(status: number, results: unknown[], errors: unknown[], startedAt: string): Reply {
  const completedAt = new Date().toISOString();
  const body: Body = { status: 'COMPLETE', results, startedAt, completedAt };
  if (errors.length > 0) Object.assign(body, { numErrors: errors.length, errors });
  return { status, body };
}

function isObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
