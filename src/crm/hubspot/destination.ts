// HubSpot behind the Destination interface: resolves custom objects, checks plans against their
// properties (existence, writability, unique matching keys) and hands out batch writers.
import type { StreamPlan } from '../../config/stream-plan.js';
import type { HubSpotConfig } from '../../config/spec.js';
import { didYouMean } from '../../config/closest-name.js';
import { ApiDestination } from '../api-destination.js';
import type { Destination, DestinationEvents, OpenedObject, Problem } from '../destination.js';
import type { DestinationOperation } from '../../protocol/messages.js';
import type { Logger } from '../../protocol/log.js';
import { HubSpotApi } from './api.js';
import { jsonSchemaOf, listSchemas, RECORD_ID, resolveObject, type HubSpotObject } from './properties.js';
import { HubSpotObjectWriter } from './writer.js';
import { resolveAssociations } from './association-targets.js';

export class HubSpotDestination extends ApiDestination<HubSpotApi> implements Destination {
  readonly recordIdField = RECORD_ID;

  constructor(config: HubSpotConfig, log: Logger, events: DestinationEvents) {
    super(new HubSpotApi(config, log, events));
  }

  async verifyAccess(): Promise<void> {
    await listSchemas(this.api);
  }

  async open(plan: StreamPlan): Promise<OpenedObject> {
    const object = await resolveObject(this.api, plan.object);
    if (!object) {
      const names = (await listSchemas(this.api)).flatMap((s) => [s.name, s.fullyQualifiedName, s.objectTypeId]);
      return { problems: [{ message: `custom object "${plan.object}" does not exist in HubSpot${didYouMean(plan.object, names)}` }] };
    }
    const links = await resolveAssociations(this.api, object, plan.associations ?? []);
    const problems = [...this.fieldProblems(plan, object), ...this.matchProblems(plan, object), ...requiredProblems(plan, object), ...links.problems];
    return { writer: new HubSpotObjectWriter(this.api, object, plan, links.targets), objectId: `hubspot:${object.fullyQualifiedName}`, problems };
  }

  async discover(): Promise<DestinationOperation[]> {
    const operations: DestinationOperation[] = [];
    for (const schema of await listSchemas(this.api)) {
      const object = await resolveObject(this.api, schema.objectTypeId);
      if (object) operations.push(...operationsOf(object));
    }
    return operations;
  }

  private fieldProblems(plan: StreamPlan, object: HubSpotObject): Problem[] {
    return (plan.fields ?? []).flatMap(({ destination, lookup }) => {
      // `lookup` sets a Salesforce reference through its parent's key; HubSpot links records by associations.
      if (lookup) return [{ field: destination, message: `fields[] "${destination}" has a lookup, which only Salesforce supports (a reference field set through its parent's key); on HubSpot link records with objects[].associations and map "${destination}" without lookup` }];
      return this.writabilityProblem(object, destination, 'property');
    });
  }

  private matchProblems(plan: StreamPlan, object: HubSpotObject): Problem[] {
    const key = plan.match.destination;
    if (!key) return [];
    if (key === RECORD_ID) {
      if (plan.operation === 'update' || plan.operation === 'archive') return [];
      return [{ field: key, message: `match.destination ${RECORD_ID} works in update mode only: HubSpot assigns record ids, so ${plan.operation} must match by a unique-value property` }];
    }
    const missingOrReadOnly = this.writabilityProblem(object, key, 'match.destination', { mustBeWritable: plan.operation !== 'update' && plan.operation !== 'archive' });
    if (missingOrReadOnly.length > 0) return missingOrReadOnly;
    const property = object.properties.get(key)!;
    if (plan.operation !== 'insert' && !property.hasUniqueValue) {
      const unique = [...object.properties.values()].filter((p) => p.hasUniqueValue).map((p) => p.name);
      const choices = unique.length > 0 ? `unique-value properties of ${object.name}: ${unique.join(', ')}` : `${object.name} has no unique-value property`;
      return [{ field: key, message: `match.destination "${key}" does not hold unique values, so HubSpot cannot ${plan.operation} by it; use ${RECORD_ID} or a unique-value property (${choices})` }];
    }
    return [];
  }

  private writabilityProblem(object: HubSpotObject, name: string, role: string, { mustBeWritable } = { mustBeWritable: true }): Problem[] {
    const property = object.properties.get(name);
    if (!property) {
      return [{ field: name, message: `${role} "${name}" does not exist on ${object.name}${didYouMean(name, object.properties.keys())}` }];
    }
    if (mustBeWritable && property.readOnlyReason) {
      return [{ field: name, message: `${role} "${name}" of ${object.name} cannot be written: ${property.readOnlyReason}` }];
    }
    return [];
  }
}

/**
 * HubSpot refuses to create a record without the object's required properties, so a mapping
 * that creates records must cover them. Without an explicit mapping the rows' columns decide,
 * which only the write can tell.
 */
function requiredProblems(plan: StreamPlan, object: HubSpotObject): Problem[] {
  if (!plan.fields || (plan.operation !== 'insert' && plan.operation !== 'upsert')) return [];
  const mapped = new Set([...plan.fields.map((f) => f.destination), plan.match.destination]);
  return object.requiredProperties
    .filter((name) => !mapped.has(name))
    .map((name) => ({ field: name, message: `required property "${name}" of ${object.name} is not mapped: HubSpot refuses to create a record without it` }));
}

function operationsOf(object: HubSpotObject): DestinationOperation[] {
  const json_schema = jsonSchemaOf(object);
  const object_name = object.fullyQualifiedName;
  const unique = [...object.properties.values()].filter((p) => p.hasUniqueValue && !p.readOnlyReason).map((p) => [p.name]);
  const byIdOrUnique = [[RECORD_ID], ...unique];
  const operations: DestinationOperation[] = [
    { object_name, sync_mode: 'append', json_schema },
    { object_name, sync_mode: 'update', json_schema, matching_keys: byIdOrUnique },
    { object_name, sync_mode: 'soft_delete', json_schema, matching_keys: byIdOrUnique },
  ];
  if (unique.length > 0) operations.splice(1, 0, { object_name, sync_mode: 'append_dedup', json_schema, matching_keys: unique });
  return operations;
}
