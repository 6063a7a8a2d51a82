// One HubSpot portal: its custom object schemas, their properties and records, the unique
// values that must not repeat, and the associations between records.
import { AssociationTypes } from './association-types.js';
import { AssociationLinks } from './associations.js';
import { validationError, HubSpotError } from './errors.js';
import { STANDARD_OBJECTS } from './standard-objects.js';
import type { ObjectSchemaEgg, PropertyDef, StoredProperty, StoredRecord, StoredSchema } from './types.js';

const VALID_FIELD_TYPES: Record<string, string[]> = {
  bool: ['booleancheckbox', 'calculation_equation'],
  enumeration: ['booleancheckbox', 'checkbox', 'radio', 'select', 'calculation_equation'],
  date: ['date'],
  datetime: ['date'],
  string: ['text', 'textarea', 'file', 'calculation_equation', 'html'],
  number: ['number', 'calculation_equation'],
  phone_number: ['phonenumber'],
};

const SYSTEM_PROPERTIES: PropertyDef[] = [
  { name: 'hs_object_id', label: 'Record ID', type: 'number', fieldType: 'number', readOnlyValue: true },
  { name: 'hs_createdate', label: 'Object create date/time', type: 'datetime', fieldType: 'date', readOnlyValue: true },
  { name: 'hs_lastmodifieddate', label: 'Object last modified date/time', type: 'datetime', fieldType: 'date', readOnlyValue: true },
];

export class Portal {
  private readonly schemas = new Map<string, StoredSchema>();
  private readonly records = new Map<string, Map<string, StoredRecord>>();
  /**
   * Per object type and unique property: value → the record that took the value last. Kept for
   * speed only (a scan per lookup makes large batches quadratic); findByUnique checks the record
   * still holds the value and is live, so archiving or changing a value needs no upkeep here.
   */
  private readonly uniqueIndex = new Map<string, Map<string, Map<string, StoredRecord>>>();
  readonly associationTypes = new AssociationTypes();
  readonly associationLinks = new AssociationLinks();
  private nextTypeNumber = 1_000_001;
  private nextRecordId = 18_000_000_001;

  constructor(readonly portalId: number) {
    for (const { objectTypeId, egg } of STANDARD_OBJECTS) this.createSchema(structuredClone(egg), objectTypeId);
  }

  /** A custom object from a schema egg; `standardTypeId` makes one of HubSpot's own objects instead. */
  createSchema(egg: ObjectSchemaEgg, standardTypeId?: string): StoredSchema {
    if (!egg || typeof egg.name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(egg.name)) throw validationError('name must start with a letter and hold only letters, digits and underscores');
    if (!egg.labels?.singular || !egg.labels?.plural) throw validationError('labels.singular and labels.plural are required');
    if (!Array.isArray(egg.properties) || !Array.isArray(egg.requiredProperties) || !Array.isArray(egg.associatedObjects)) {
      throw validationError('properties, requiredProperties and associatedObjects are required');
    }
    if ([...this.schemas.values()].some((s) => s.name === egg.name)) throw new HubSpotError(409, 'CONFLICT', `An object type with name ${egg.name} already exists`);
    const associated = egg.associatedObjects.map((name) => this.associatedObject(name));
    const now = new Date().toISOString();
    const properties = new Map<string, StoredProperty>();
    for (const def of [...SYSTEM_PROPERTIES, ...egg.properties]) {
      if (properties.has(def.name)) throw validationError(`Property ${def.name} is defined twice`);
      properties.set(def.name, this.property(def, SYSTEM_PROPERTIES.includes(def), now));
    }
    for (const name of [...egg.requiredProperties, ...(egg.primaryDisplayProperty ? [egg.primaryDisplayProperty] : [])]) {
      if (!properties.has(name)) throw validationError(`Property ${name} is required or displayed but not defined`);
    }
    const number = standardTypeId ? 0 : this.nextTypeNumber++;
    const schema: StoredSchema = {
      standard: standardTypeId !== undefined,
      id: standardTypeId ?? String(number), objectTypeId: standardTypeId ?? `2-${number}`,
      fullyQualifiedName: standardTypeId ? egg.name : `p${this.portalId}_${egg.name}`, name: egg.name, labels: egg.labels,
      properties, requiredProperties: egg.requiredProperties, searchableProperties: egg.searchableProperties ?? [],
      secondaryDisplayProperties: egg.secondaryDisplayProperties ?? [], primaryDisplayProperty: egg.primaryDisplayProperty,
      description: egg.description, createdAt: now, updatedAt: now,
    };
    this.schemas.set(schema.objectTypeId, schema);
    this.records.set(schema.objectTypeId, new Map());
    const unique = [...properties.values()].filter((p) => p.hasUniqueValue).map((p): [string, Map<string, StoredRecord>] => [p.name, new Map()]);
    this.uniqueIndex.set(schema.objectTypeId, new Map(unique));
    for (const target of associated) this.associationTypes.addDefaultPair(schema, target);
    return schema;
  }

  private property(def: PropertyDef, system: boolean, now: string): StoredProperty {
    if (!def.name || !def.label || !def.type || !def.fieldType) throw validationError('a property needs name, label, type and fieldType');
    if (!VALID_FIELD_TYPES[def.type]?.includes(def.fieldType)) throw validationError(`fieldType ${def.fieldType} is not valid for type ${def.type}`);
    if (def.type === 'enumeration' && def.fieldType !== 'calculation_equation' && !(def.options?.length)) throw validationError(`enumeration property ${def.name} needs options`);
    const calculated = def.fieldType === 'calculation_equation';
    return { ...def, groupName: def.groupName ?? 'information', hubspotDefined: system, calculated, readOnlyValue: def.readOnlyValue === true || calculated, createdAt: now };
  }

  /** For tests: by objectTypeId (2-…), fully qualified name (p<portal>_name) or name. */
  schema(objectType: string): StoredSchema | undefined {
    const direct = this.schemas.get(objectType);
    if (direct) return direct;
    const lower = objectType.toLowerCase();
    return [...this.schemas.values()].find((s) => s.fullyQualifiedName.toLowerCase() === lower || s.name.toLowerCase() === lower);
  }

  /**
   * As the API resolves `{objectType}` in a path: a custom object by objectTypeId or fully
   * qualified name only (a bare name is unknown), a standard object by id or name.
   */
  schemaForApi(objectType: string): StoredSchema | undefined {
    const lower = objectType.toLowerCase();
    const named = (s: StoredSchema) => s.fullyQualifiedName.toLowerCase() === lower || (s.standard && s.labels.singular.toLowerCase() === lower);
    return this.schemas.get(objectType) ?? [...this.schemas.values()].find(named);
  }

  /** An `associatedObjects` entry: CONTACT, COMPANY, DEAL, TICKET (any case, singular or plural), an objectTypeId or a fully qualified name. */
  private associatedObject(name: unknown): StoredSchema {
    const schema = typeof name === 'string' ? this.schemaForApi(name) : undefined;
    if (!schema) throw validationError(`associatedObjects: unknown object type ${JSON.stringify(name)}`);
    return schema;
  }

  /** The custom objects: what /crm/v3/schemas lists. */
  allSchemas(): StoredSchema[] {
    return [...this.schemas.values()].filter((s) => !s.standard);
  }

  recordsOf(schema: StoredSchema): Map<string, StoredRecord> {
    return this.records.get(schema.objectTypeId)!;
  }

  newRecordId(): string {
    return String(this.nextRecordId++);
  }

  /** A live record by id; a merged-away id answers with the record it was merged into. */
  liveRecord(schema: StoredSchema, id: string): StoredRecord | undefined {
    const record = this.recordsOf(schema).get(id);
    const survivor = record?.mergedInto !== undefined ? this.recordsOf(schema).get(record.mergedInto) : record;
    return survivor && !survivor.archived ? survivor : undefined;
  }

  /** HubSpot's merge: the merged record disappears and its id now leads to the primary one. */
  merge(schema: StoredSchema, primaryId: string, mergedId: string): void {
    const primary = this.recordsOf(schema).get(primaryId);
    const merged = this.recordsOf(schema).get(mergedId);
    if (!primary || !merged || primary === merged) throw new Error(`cannot merge ${mergedId} into ${primaryId}`);
    merged.mergedInto = primaryId;
    merged.archived = true;
    this.associationLinks.moveAll({ schema, id: mergedId }, { schema, id: primaryId });
  }

  /** The live record holding this value of a unique property, if any. */
  findByUnique(schema: StoredSchema, property: string, given: string): StoredRecord | undefined {
    const value = schema.properties.get(property)?.format === 'email' ? given.toLowerCase() : given;
    const index = this.uniqueIndex.get(schema.objectTypeId)?.get(property);
    if (index && value !== '') {
      // Only one live record can hold a unique value, and it is the last one that took it.
      const record = index.get(value);
      return record && !record.archived && record.properties[property] === value ? record : undefined;
    }
    for (const record of this.recordsOf(schema).values()) {
      if (!record.archived && record.properties[property] === value) return record;
    }
    return undefined;
  }

  insert(schema: StoredSchema, properties: Record<string, string>): StoredRecord {
    const id = this.newRecordId();
    const now = new Date().toISOString();
    const record: StoredRecord = {
      id, createdAt: now, updatedAt: now, archived: false,
      url: `https://app.hubspot.com/contacts/${this.portalId}/record/${schema.objectTypeId}/${id}`,
      properties: { ...properties, hs_object_id: id, hs_createdate: now, hs_lastmodifieddate: now },
    };
    this.recordsOf(schema).set(id, record);
    this.indexUniqueValues(schema.objectTypeId, record, properties);
    return record;
  }

  update(record: StoredRecord, properties: Record<string, string>): void {
    const now = new Date().toISOString();
    Object.assign(record.properties, properties, { hs_lastmodifieddate: now });
    record.updatedAt = now;
    for (const [objectTypeId, records] of this.records) {
      if (records.get(record.id) === record) this.indexUniqueValues(objectTypeId, record, properties);
    }
  }

  private indexUniqueValues(objectTypeId: string, record: StoredRecord, written: Record<string, string>): void {
    for (const [property, index] of this.uniqueIndex.get(objectTypeId) ?? []) {
      const value = written[property];
      if (value !== undefined && value !== '') index.set(value, record);
    }
  }
}
