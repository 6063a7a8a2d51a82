// Salesforce behind the Destination interface: describes objects, checks plans against them (every
// mapped field exists and may be set by the mode, the match field can identify records) and hands
// out writers. Problems name the field, say why, and suggest the closest API name.
import { didYouMean } from '../../config/closest-name.js';
import type { SalesforceConfig } from '../../config/spec.js';
import type { Operation, StreamPlan } from '../../config/stream-plan.js';
import type { Logger } from '../../protocol/log.js';
import type { DestinationOperation } from '../../protocol/messages.js';
import { ApiDestination } from '../api-destination.js';
import type { Destination, DestinationEvents, OpenedObject, Problem } from '../destination.js';
import { SalesforceApi } from './api.js';
import {
  describeGlobal, describeObject, externalIdFields, findField, jsonSchemaOf, RECORD_ID, unwritableReason,
  type GlobalEntry, type SalesforceField, type SalesforceObject,
} from './schema.js';
import { linkParents } from './relationships.js';
import { SalesforceObjectWriter, type WriterSettings } from './writer.js';

const DEFAULT_BULK_THRESHOLD = 2000;

export class SalesforceDestination extends ApiDestination<SalesforceApi> implements Destination {
  readonly recordIdField = RECORD_ID;
  private readonly settings: WriterSettings;
  private globalList?: Promise<GlobalEntry[]>;
  private readonly parents = new Map<string, Promise<SalesforceObject | undefined>>();

  constructor(
    config: SalesforceConfig,
    private readonly log: Logger,
    events: DestinationEvents,
  ) {
    super(new SalesforceApi(config, log, events));
    this.settings = { api: config.api ?? 'auto', bulkThreshold: config.bulk_threshold ?? DEFAULT_BULK_THRESHOLD };
  }

  async verifyAccess(): Promise<void> {
    await this.objectList();
  }

  async open(plan: StreamPlan): Promise<OpenedObject> {
    const object = await describeObject(this.api, plan.object);
    if (!object) {
      const names = (await this.objectList()).map((entry) => entry.name);
      return { problems: [{ message: `object "${plan.object}" does not exist in Salesforce or this user cannot see it${didYouMean(plan.object, names)}` }] };
    }
    const { links, problems: lookupProblems } = await linkParents(plan.fields ?? [], object, (name) => this.describeParent(name));
    const problems = [...objectProblems(plan.operation, object), ...fieldProblems(plan, object), ...lookupProblems, ...matchProblems(plan, object), ...associationProblems(plan)];
    return {
      writer: new SalesforceObjectWriter(this.api, object, plan, this.settings, this.log, links),
      // The org id, not the instance URL: instances move, orgs do not.
      objectId: `salesforce:${this.api.orgKey}:${object.name}`,
      problems,
    };
  }

  async discover(): Promise<DestinationOperation[]> {
    const operations: DestinationOperation[] = [];
    for (const entry of await this.objectList()) {
      // Custom objects proper: not custom settings, nor the __Share, __History and __Feed companions.
      if (!entry.custom || entry.customSetting || !entry.name.endsWith('__c')) continue;
      const object = await describeObject(this.api, entry.name);
      if (object) operations.push(...operationsOf(object));
    }
    return operations;
  }

  /** Parents are described once per run, however many streams link to them. */
  private describeParent(name: string): Promise<SalesforceObject | undefined> {
    let described = this.parents.get(name);
    if (!described) {
      described = describeObject(this.api, name);
      this.parents.set(name, described);
    }
    return described;
  }

  private objectList(): Promise<GlobalEntry[]> {
    this.globalList ??= describeGlobal(this.api);
    return this.globalList;
  }
}

function objectProblems(operation: Operation, object: SalesforceObject): Problem[] {
  const refused = (what: string) => [{ message: `${object.name} does not allow this user to ${what} records` }];
  if ((operation === 'insert' || operation === 'upsert') && !object.createable) return refused('create');
  if ((operation === 'update' || operation === 'upsert') && !object.updateable) return refused('update');
  if (operation === 'archive' && !object.deletable) return refused('delete');
  return [];
}

/** What the mode asks of a field it writes: createable (insert), updateable (update), both (upsert). */
function writesOf(operation: Operation): ('insert' | 'update')[] {
  if (operation === 'insert') return ['insert'];
  if (operation === 'update') return ['update'];
  if (operation === 'upsert') return ['insert', 'update'];
  return [];
}

function fieldProblems(plan: StreamPlan, object: SalesforceObject): Problem[] {
  return (plan.fields ?? []).flatMap(({ destination }) => {
    const field = findField(object, destination);
    if (!field) return [missingField('field', destination, object)];
    return writabilityProblems('field', field, object, writesOf(plan.operation));
  });
}

function matchProblems(plan: StreamPlan, object: SalesforceObject): Problem[] {
  const key = plan.match.destination;
  if (!key) return [];
  const externalIds = externalIdFields(object).map((f) => f.name);
  const choices = externalIds.length > 0 ? `external-id fields of ${object.name}: ${externalIds.join(', ')}` : `${object.name} has no external-id field`;
  if (key.toLowerCase() === RECORD_ID.toLowerCase()) {
    if (plan.operation === 'update' || plan.operation === 'archive') return [];
    return [{
      field: key,
      message: `match.destination Id works in update mode only: Salesforce assigns record ids, so ${plan.operation} must match by an external-id field (${choices})${plan.operation === 'insert' ? ' or leave match.destination out' : ''}`,
    }];
  }
  const field = findField(object, key);
  if (!field) return [missingField('match.destination', key, object)];
  switch (plan.operation) {
    case 'insert':
      return writabilityProblems('match.destination', field, object, ['insert']);
    case 'upsert':
      if (!field.externalId) {
        return [{ field: field.name, message: `match.destination "${field.name}" is not an external-id field of ${object.name}, so Salesforce cannot upsert by it; use one (${choices}) or mark it External ID in Setup` }];
      }
      return writabilityProblems('match.destination', field, object, ['insert']);
    default:
      if (!field.idLookup) {
        return [{ field: field.name, message: `match.destination "${field.name}" cannot identify ${object.name} records: it is neither Id nor an external-id or ID-lookup field; use Id or an external-id field (${choices})` }];
      }
      return [];
  }
}

function missingField(role: string, name: string, object: SalesforceObject): Problem {
  return { field: name, message: `${role} "${name}" does not exist on ${object.name}${didYouMean(name, object.fields.map((f) => f.name))}` };
}

function writabilityProblems(role: string, field: SalesforceField, object: SalesforceObject, writes: ('insert' | 'update')[]): Problem[] {
  for (const write of writes) {
    const reason = unwritableReason(field, write);
    if (reason) return [{ field: field.name, message: `${role} "${field.name}" of ${object.name} cannot be written: ${reason}` }];
  }
  return [];
}

/** Per object: append if it can be created, update by Id (or external id), append_dedup per external id, soft_delete if deletable. */
function operationsOf(object: SalesforceObject): DestinationOperation[] {
  const json_schema = jsonSchemaOf(object);
  const object_name = object.name;
  const externalIds = externalIdFields(object).filter((f) => f.createable).map((f) => [f.name]);
  const byIdOrExternalId = [[RECORD_ID], ...externalIds];
  const operations: DestinationOperation[] = [];
  if (object.createable) operations.push({ object_name, sync_mode: 'append', json_schema });
  if (object.createable && object.updateable && externalIds.length > 0) operations.push({ object_name, sync_mode: 'append_dedup', json_schema, matching_keys: externalIds });
  if (object.updateable) operations.push({ object_name, sync_mode: 'update', json_schema, matching_keys: byIdOrExternalId });
  if (object.deletable) operations.push({ object_name, sync_mode: 'soft_delete', json_schema, matching_keys: byIdOrExternalId });
  return operations;
}

/** Associations are HubSpot's; Salesforce links records through lookup fields. */
function associationProblems(plan: StreamPlan): Problem[] {
  if (!plan.associations?.length) return [];
  return [{ message: `${plan.origin}.associations links HubSpot records; Salesforce links records through lookup fields: map the parent's key to the lookup field with fields[].lookup {"object", "match"}` }];
}
