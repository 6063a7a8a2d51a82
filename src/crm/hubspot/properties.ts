// A HubSpot object as the connector needs it: its type id for the objects API and, per
// property, the type, options, uniqueness and whether a value can be written to it.
import { ConnectorError } from '../../errors.js';
import type { HubSpotApi } from './api.js';

export interface PropertyOption {
  label: string;
  value: string;
}

export interface HubSpotProperty {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  options: PropertyOption[];
  /** Options live outside the property (pipelines, owners): HubSpot checks them, we cannot. */
  externalOptions: boolean;
  hasUniqueValue: boolean;
  /** Undefined when writable; else why not (read-only, calculated). */
  readOnlyReason?: string;
}

export interface HubSpotObject {
  objectTypeId: string;
  name: string;
  fullyQualifiedName: string;
  label: string;
  properties: Map<string, HubSpotProperty>;
  /** Properties HubSpot demands on every record created. */
  requiredProperties: string[];
}

export const RECORD_ID = 'hs_object_id';

interface RawSchema {
  objectTypeId: string;
  name: string;
  fullyQualifiedName: string;
  labels?: { singular?: string; plural?: string };
  requiredProperties?: string[];
}

/** Finds a custom object by objectTypeId, fully qualified name or name; undefined when none. */
export async function resolveObject(api: HubSpotApi, wanted: string): Promise<HubSpotObject | undefined> {
  const schema = (await getSchema(api, wanted)) ?? (await listSchemas(api)).find((s) => matchesName(s, wanted));
  if (!schema) return undefined;
  const raw = await api.typed(`properties of ${schema.objectTypeId}`, (c) => c.crm.properties.coreApi.getAll(schema.objectTypeId));
  const properties = new Map(raw.results.map((p) => [p.name, toProperty(p)] as const));
  return {
    objectTypeId: schema.objectTypeId,
    name: schema.name,
    fullyQualifiedName: schema.fullyQualifiedName,
    label: schema.labels?.plural ?? schema.name,
    properties,
    requiredProperties: schema.requiredProperties ?? [],
  };
}

export async function listSchemas(api: HubSpotApi): Promise<RawSchema[]> {
  const all = await api.typed('list custom object schemas', (c) => c.crm.schemas.coreApi.getAll());
  return all.results as RawSchema[];
}

async function getSchema(api: HubSpotApi, wanted: string): Promise<RawSchema | undefined> {
  try {
    return (await api.typed(`schema ${wanted}`, (c) => c.crm.schemas.coreApi.getById(wanted))) as RawSchema;
  } catch (error) {
    // Not an id or fully qualified name HubSpot knows: the caller looks the name up in the list.
    if (error instanceof ConnectorError && (error.code === 'http_404' || error.code === 'http_400')) return undefined;
    throw error;
  }
}

function matchesName(schema: RawSchema, wanted: string): boolean {
  const w = wanted.toLowerCase();
  // Labels are not unique in a portal, so only names identify an object.
  return [schema.name, schema.fullyQualifiedName, schema.objectTypeId].some((name) => name?.toLowerCase() === w);
}

export function toProperty(raw: any): HubSpotProperty {
  const readOnlyReason = raw.calculated || raw.fieldType === 'calculation_equation'
    ? 'it is calculated'
    : raw.modificationMetadata?.readOnlyValue
      ? 'it is read-only'
      : undefined;
  return {
    name: raw.name,
    label: raw.label ?? raw.name,
    type: raw.type,
    fieldType: raw.fieldType,
    options: (raw.options ?? []).map((o: any) => ({ label: String(o.label ?? o.value), value: String(o.value) })),
    externalOptions: Boolean(raw.externalOptions),
    hasUniqueValue: Boolean(raw.hasUniqueValue),
    readOnlyReason,
  };
}

/** JSON Schema of what a row may hold for this object (Airbyte DESTINATION_CATALOG). */
export function jsonSchemaOf(object: HubSpotObject): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const property of object.properties.values()) {
    if (!property.readOnlyReason) properties[property.name] = jsonSchemaOfProperty(property);
  }
  return { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', additionalProperties: true, properties };
}

function jsonSchemaOfProperty(property: HubSpotProperty): Record<string, unknown> {
  const described = { title: property.label };
  switch (property.type) {
    case 'number': return { ...described, type: ['number', 'null'] };
    case 'bool': return { ...described, type: ['boolean', 'null'] };
    case 'date': return { ...described, type: ['string', 'null'], format: 'date' };
    case 'datetime': return { ...described, type: ['string', 'null'], format: 'date-time', airbyte_type: 'timestamp_with_timezone' };
    case 'enumeration': {
      const values = property.options.map((o) => o.value);
      if (property.fieldType === 'checkbox') return { ...described, type: ['array', 'string', 'null'], items: { type: 'string', enum: values } };
      return values.length > 0 ? { ...described, type: ['string', 'null'], enum: [...values, null] } : { ...described, type: ['string', 'null'] };
    }
    default: return { ...described, type: ['string', 'null'] };
  }
}
