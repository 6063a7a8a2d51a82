// The schemas and properties APIs: custom object definitions as HubSpot answers them.
import { HubSpotError, notFound } from './errors.js';
import type { Portal } from './portal.js';
import type { Reply, StoredProperty, StoredSchema } from './types.js';

export function schemasRoute(portal: Portal, method: string, rest: string[], body: any): Reply {
  if (rest.length === 0 && method === 'GET') return { status: 200, body: { results: portal.allSchemas().map((schema) => schemaView(portal, schema)) } };
  if (rest.length === 0 && method === 'POST') return { status: 201, body: schemaView(portal, portal.createSchema(body)) };
  if (rest.length === 1 && method === 'GET') {
    const schema = portal.schemaForApi(decodeURIComponent(rest[0]));
    if (!schema || schema.standard) throw notFound(`Unable to find object type ${rest[0]}`);
    return { status: 200, body: schemaView(portal, schema) };
  }
  throw new HubSpotError(405, 'METHOD_NOT_ALLOWED', `${method} is not supported here`);
}

export function propertiesRoute(method: string, schema: StoredSchema, name?: string): Reply {
  if (method !== 'GET') throw new HubSpotError(405, 'METHOD_NOT_ALLOWED', `${method} is not supported here`);
  if (!name) return { status: 200, body: { results: [...schema.properties.values()].map(propertyView) } };
  const property = schema.properties.get(name);
  if (!property) throw notFound(`Unable to find property ${name}`);
  return { status: 200, body: propertyView(property) };
}

function schemaView(portal: Portal, schema: StoredSchema) {
  return {
    id: schema.id, objectTypeId: schema.objectTypeId, fullyQualifiedName: schema.fullyQualifiedName, name: schema.name, labels: schema.labels,
    properties: [...schema.properties.values()].map(propertyView), requiredProperties: schema.requiredProperties,
    searchableProperties: schema.searchableProperties, secondaryDisplayProperties: schema.secondaryDisplayProperties,
    primaryDisplayProperty: schema.primaryDisplayProperty, associations: associationDefinitions(portal, schema), archived: false,
    createdAt: schema.createdAt, updatedAt: schema.updatedAt, description: schema.description,
  };
}

/** The schema's association definitions: the unlabeled default to each object it is associated with. */
function associationDefinitions(portal: Portal, schema: StoredSchema) {
  return portal.associationTypes.definitionsFrom(schema).map((type) => ({
    id: String(type.typeId), name: type.name, fromObjectTypeId: type.fromObjectTypeId, toObjectTypeId: type.toObjectTypeId,
    createdAt: schema.createdAt, updatedAt: schema.updatedAt,
  }));
}

function propertyView(property: StoredProperty) {
  return {
    name: property.name, label: property.label, type: property.type, fieldType: property.fieldType, description: property.description ?? '',
    groupName: property.groupName, options: (property.options ?? []).map((o, i) => ({ label: o.label, value: o.value, displayOrder: o.displayOrder ?? i, hidden: o.hidden ?? false })),
    calculated: property.calculated, externalOptions: false, hasUniqueValue: property.hasUniqueValue === true, hidden: false,
    hubspotDefined: property.hubspotDefined, formField: !property.readOnlyValue, dataSensitivity: 'non_sensitive', archived: false,
    createdAt: property.createdAt, updatedAt: property.createdAt,
    modificationMetadata: { archivable: !property.hubspotDefined, readOnlyDefinition: property.hubspotDefined, readOnlyValue: property.readOnlyValue },
    ...(property.calculationFormula ? { calculationFormula: property.calculationFormula } : {}),
  };
}
