// One org's state: object metadata (custom objects plus a few standard ones) and the stored records.
// Names are matched without regard to case, as Salesforce does for objects and fields.
import { customKeyPrefix, IdFactory, keyPrefixOf } from './ids.js';
import type { FieldValue } from './field-validation.js';
import type { CustomObjectDef, FieldDef, FieldType, SalesforceRecord } from './types.js';

export interface FieldMeta {
  name: string;
  label: string;
  type: FieldType;
  length: number;
  precision: number;
  scale: number;
  digits: number;
  externalId: boolean;
  unique: boolean;
  idLookup: boolean;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  calculated: boolean;
  defaultedOnCreate: boolean;
  picklistValues: string[];
  restrictedPicklist: boolean;
  referenceTo: string[];
  /** Reference fields: how a record names its parent (Account__r); null for other fields. */
  relationshipName: string | null;
  masterDetail: boolean;
  /** Deleting the parent deletes the record (master-detail); otherwise the field is cleared. */
  cascadeDelete: boolean;
  custom: boolean;
  nameField: boolean;
}

export interface ObjectMeta {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  custom: boolean;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  fields: FieldMeta[];
  fieldsByLowerName: Map<string, FieldMeta>;
}

const DEFAULT_LENGTH: Partial<Record<FieldType, number>> = {
  string: 255,
  textarea: 255,
  email: 80,
  phone: 40,
  url: 255,
  picklist: 255,
  multipicklist: 4099,
  reference: 18,
  id: 18,
};

const DEFAULT_PRECISION: Partial<Record<FieldType, [number, number]>> = {
  double: [18, 0],
  currency: [18, 2],
  percent: [18, 2],
};

function labelFromName(name: string): string {
  return name.replace(/__c$/i, '').replace(/_/g, ' ');
}

function isReadOnlyType(def: FieldDef): boolean {
  return def.type === 'id' || def.calculated === true;
}

/** Account__c → Account__r, AccountId → Account; other fields have none. */
function defaultRelationshipName(def: FieldDef): string | null {
  if (def.type !== 'reference') return null;
  if (/__c$/i.test(def.name)) return def.name.replace(/__c$/i, '__r');
  return /Id$/.test(def.name) ? def.name.slice(0, -2) : null;
}

/** Fills every describe attribute from the short definition, the way Setup would. */
export function resolveField(def: FieldDef, custom: boolean): FieldMeta {
  const readOnly = isReadOnlyType(def);
  const masterDetail = def.type === 'reference' && def.masterDetail === true;
  // A master-detail field is required, and fixed once set unless reparenting is allowed.
  const required = def.required === true || masterDetail;
  const [precision, scale] = DEFAULT_PRECISION[def.type] ?? [0, 0];
  const checkbox = def.type === 'boolean';
  return {
    name: def.name,
    label: def.label ?? labelFromName(def.name),
    type: def.type,
    length: def.length ?? DEFAULT_LENGTH[def.type] ?? 0,
    precision: def.precision ?? precision,
    scale: def.scale ?? scale,
    digits: def.type === 'int' ? (def.precision ?? 9) : 0,
    externalId: def.externalId ?? false,
    unique: def.unique ?? false,
    idLookup: def.idLookup ?? (def.externalId === true || def.type === 'id'),
    // Checkboxes are never null: they default to false.
    nillable: required ? false : (def.nillable ?? !checkbox),
    createable: required ? true : (def.createable ?? !readOnly),
    updateable: def.updateable ?? (!readOnly && !masterDetail),
    calculated: def.calculated ?? false,
    defaultedOnCreate: required ? false : (def.defaultedOnCreate ?? checkbox),
    picklistValues: def.picklistValues ?? [],
    restrictedPicklist: def.restrictedPicklist ?? false,
    referenceTo: def.referenceTo ?? [],
    relationshipName: def.relationshipName ?? defaultRelationshipName(def),
    masterDetail,
    cascadeDelete: masterDetail,
    custom,
    nameField: def.name === 'Name',
  };
}

const SYSTEM_FIELDS: FieldDef[] = [
  { name: 'Id', label: 'Record ID', type: 'id', nillable: false, defaultedOnCreate: true },
  { name: 'OwnerId', label: 'Owner ID', type: 'reference', referenceTo: ['User'], nillable: false, defaultedOnCreate: true },
  { name: 'IsDeleted', label: 'Deleted', type: 'boolean', createable: false, updateable: false },
  { name: 'CreatedDate', label: 'Created Date', type: 'datetime', nillable: false, createable: false, updateable: false, defaultedOnCreate: true },
  { name: 'CreatedById', label: 'Created By ID', type: 'reference', referenceTo: ['User'], nillable: false, createable: false, updateable: false, defaultedOnCreate: true },
  { name: 'LastModifiedDate', label: 'Last Modified Date', type: 'datetime', nillable: false, createable: false, updateable: false, defaultedOnCreate: true },
  { name: 'LastModifiedById', label: 'Last Modified By ID', type: 'reference', referenceTo: ['User'], nillable: false, createable: false, updateable: false, defaultedOnCreate: true },
  { name: 'SystemModstamp', label: 'System Modstamp', type: 'datetime', nillable: false, createable: false, updateable: false, defaultedOnCreate: true },
];

// A custom object's text Name: not nillable, yet optional on create because the API fills in the record
// id; like every Name field it can identify records (idLookup), though it need not be unique.
const CUSTOM_NAME_FIELD: FieldDef = { name: 'Name', type: 'string', length: 80, nillable: false, defaultedOnCreate: true, idLookup: true };

interface StandardObjectDef extends CustomObjectDef {
  keyPrefix: string;
  readOnly?: boolean;
}

const STANDARD_OBJECTS: StandardObjectDef[] = [
  {
    name: 'Account',
    keyPrefix: '001',
    fields: [
      { name: 'Name', label: 'Account Name', type: 'string', required: true, idLookup: true },
      { name: 'Website', type: 'url' },
      { name: 'Phone', label: 'Account Phone', type: 'phone' },
      { name: 'NumberOfEmployees', label: 'Employees', type: 'int', precision: 8 },
      { name: 'AnnualRevenue', label: 'Annual Revenue', type: 'currency' },
    ],
  },
  {
    name: 'Contact',
    keyPrefix: '003',
    fields: [
      { name: 'Name', label: 'Full Name', type: 'string', length: 121, createable: false, updateable: false },
      { name: 'FirstName', label: 'First Name', type: 'string', length: 40 },
      { name: 'LastName', label: 'Last Name', type: 'string', length: 80, required: true },
      { name: 'Email', type: 'email', idLookup: true },
      { name: 'AccountId', label: 'Account ID', type: 'reference', referenceTo: ['Account'] },
    ],
  },
  {
    name: 'User',
    keyPrefix: '005',
    readOnly: true,
    fields: [
      { name: 'Name', label: 'Full Name', type: 'string', length: 121, createable: false, updateable: false },
      { name: 'Username', type: 'string', length: 80, createable: false, updateable: false, idLookup: true, unique: true },
      { name: 'Email', type: 'email', createable: false, updateable: false, idLookup: true },
    ],
  },
];

function pluralOf(label: string): string {
  return label.endsWith('s') ? label : `${label}s`;
}

/** System fields first, then the definition's own; a definition may redefine a system field (not Id). */
function mergeFields(def: CustomObjectDef, custom: boolean): FieldMeta[] {
  const own = new Map(def.fields.map((f) => [f.name.toLowerCase(), f]));
  const base = custom ? [SYSTEM_FIELDS[0], CUSTOM_NAME_FIELD, ...SYSTEM_FIELDS.slice(1)] : SYSTEM_FIELDS;
  const merged = base.map((f) => (f.name === 'Id' ? f : (own.get(f.name.toLowerCase()) ?? f)));
  const baseNames = new Set(base.map((f) => f.name.toLowerCase()));
  const extra = def.fields.filter((f) => !baseNames.has(f.name.toLowerCase()));
  // Custom fields (…__c) are custom on standard objects too.
  return [...merged, ...extra].map((f) => resolveField(f, f.name.endsWith('__c')));
}

function buildObject(def: CustomObjectDef, keyPrefix: string, custom: boolean, readOnly = false): ObjectMeta {
  const fields = mergeFields(def, custom);
  const label = def.label ?? labelFromName(def.name);
  return {
    name: def.name,
    label,
    labelPlural: pluralOf(label),
    keyPrefix,
    custom,
    createable: !readOnly,
    updateable: !readOnly,
    deletable: !readOnly && def.deletable !== false,
    fields,
    fieldsByLowerName: new Map(fields.map((f) => [f.name.toLowerCase(), f])),
  };
}

function validateDefinition(def: CustomObjectDef): void {
  if (!/^[A-Za-z][A-Za-z0-9_]*__c$/.test(def.name)) {
    throw new Error(`custom object name must be an API name ending in __c, or a standard object's to add fields to it: ${def.name}`);
  }
}

/** Fields added to a standard object must be custom ones, and new. */
function extendStandard(std: StandardObjectDef, extensions: CustomObjectDef[]): StandardObjectDef {
  const added = extensions.flatMap((def) => def.fields);
  const bad = added.find((f) => !/^[A-Za-z][A-Za-z0-9_]*__c$/.test(f.name) || std.fields.some((own) => own.name.toLowerCase() === f.name.toLowerCase()));
  if (bad) throw new Error(`fields added to ${std.name} must be new custom fields (…__c): ${bad.name}`);
  return { ...std, fields: [...std.fields, ...added] };
}

export class Org {
  readonly orgId: string;
  readonly userId: string;
  readonly ids = new IdFactory();
  private readonly objects = new Map<string, ObjectMeta>();
  private readonly byKeyPrefix = new Map<string, ObjectMeta>();
  private readonly store = new Map<string, Map<string, SalesforceRecord>>();
  /** Ids of deleted records, with the object they belonged to: updates to them say ENTITY_IS_DELETED. */
  private readonly deleted = new Map<string, string>();
  /**
   * Stored records by the value one field holds, per object: built on a field's first lookup and
   * kept up to date by every write after it, so an upsert or a uniqueness check does not scan the
   * whole table (a scan per batch made loading N records quadratic in N).
   */
  private readonly indexes = new Map<ObjectMeta, Map<FieldMeta, Map<FieldValue, SalesforceRecord[]>>>();

  constructor(definitions: CustomObjectDef[]) {
    const isStandard = (def: CustomObjectDef) => STANDARD_OBJECTS.some((std) => std.name.toLowerCase() === def.name.toLowerCase());
    for (const std of STANDARD_OBJECTS) {
      const extended = extendStandard(std, definitions.filter((def) => def.name.toLowerCase() === std.name.toLowerCase()));
      this.register(buildObject(extended, std.keyPrefix, false, std.readOnly));
    }
    definitions.filter((def) => !isStandard(def)).forEach((def, index) => {
      validateDefinition(def);
      this.register(buildObject(def, customKeyPrefix(index), true));
    });
    this.checkReferences();
    this.orgId = this.ids.next('00D');
    this.userId = this.ids.next('005');
  }

  /** Every reference field points at objects of this org, under relationship names that do not repeat. */
  private checkReferences(): void {
    for (const meta of this.objects.values()) {
      const names = new Set<string>();
      for (const field of meta.fields.filter((f) => f.type === 'reference')) {
        const unknown = field.referenceTo.find((name) => !this.findObject(name));
        if (unknown) throw new Error(`${meta.name}.${field.name} refers to ${unknown}, which is not an object of this org`);
        const relationship = field.relationshipName?.toLowerCase();
        if (relationship && (names.has(relationship) || findField(meta, relationship))) throw new Error(`${meta.name}.${field.name}: relationship name ${field.relationshipName} is already used`);
        if (relationship) names.add(relationship);
      }
    }
  }

  /** The reference fields of other records that may point at records of `parent`. */
  referencesTo(parent: ObjectMeta): { child: ObjectMeta; field: FieldMeta }[] {
    return [...this.objects.values()].flatMap((child) =>
      child.fields.filter((f) => f.type === 'reference' && f.referenceTo.some((name) => name.toLowerCase() === parent.name.toLowerCase())).map((field) => ({ child, field })));
  }

  private register(meta: ObjectMeta): void {
    this.objects.set(meta.name.toLowerCase(), meta);
    this.byKeyPrefix.set(meta.keyPrefix, meta);
    this.store.set(meta.name.toLowerCase(), new Map());
  }

  allObjects(): ObjectMeta[] {
    return [...this.objects.values()];
  }

  findObject(name: string): ObjectMeta | undefined {
    return this.objects.get(name.toLowerCase());
  }

  objectOfId(id: string): ObjectMeta | undefined {
    return this.byKeyPrefix.get(keyPrefixOf(id));
  }

  /** Read-only: records come and go and their fields change through insertRecord, updateRecord and markDeleted, which keep the indexes (system fields no lookup reads may be stamped directly). */
  table(meta: ObjectMeta): ReadonlyMap<string, SalesforceRecord> {
    return this.store.get(meta.name.toLowerCase())!;
  }

  insertRecord(meta: ObjectMeta, record: SalesforceRecord): void {
    this.store.get(meta.name.toLowerCase())!.set(String(record.Id), record);
    for (const [field, index] of this.indexes.get(meta) ?? []) addTo(index, comparable(field, record[field.name] as FieldValue), record);
  }

  updateRecord(meta: ObjectMeta, record: SalesforceRecord, values: Iterable<[FieldMeta, FieldValue]>): void {
    const indexed = this.indexes.get(meta);
    for (const [field, value] of values) {
      const index = indexed?.get(field);
      if (index) {
        removeFrom(index, comparable(field, record[field.name] as FieldValue), record);
        addTo(index, comparable(field, value), record);
      }
      record[field.name] = value;
    }
  }

  /** Stored records whose `field` holds `value` (text without regard to case). */
  recordsWith(meta: ObjectMeta, field: FieldMeta, value: FieldValue): SalesforceRecord[] {
    let indexed = this.indexes.get(meta);
    if (!indexed) this.indexes.set(meta, (indexed = new Map()));
    let index = indexed.get(field);
    if (!index) {
      index = new Map();
      for (const record of this.table(meta).values()) addTo(index, comparable(field, record[field.name] as FieldValue), record);
      indexed.set(field, index);
    }
    return index.get(comparable(field, value)) ?? [];
  }

  wasDeleted(id: string): boolean {
    return this.deleted.has(id);
  }

  /** Deletes a record: its master-detail children go with it, lookups to it are cleared. */
  markDeleted(meta: ObjectMeta, id: string): void {
    const table = this.store.get(meta.name.toLowerCase())!;
    const record = table.get(id);
    if (record) for (const [field, index] of this.indexes.get(meta) ?? []) removeFrom(index, comparable(field, record[field.name] as FieldValue), record);
    table.delete(id);
    this.deleted.set(id, meta.name);
    if (record) this.detachChildren(meta, id);
  }

  private detachChildren(parent: ObjectMeta, id: string): void {
    for (const { child, field } of this.referencesTo(parent)) {
      for (const record of [...this.recordsWith(child, field, id)]) {
        if (field.cascadeDelete) this.markDeleted(child, String(record.Id));
        else this.updateRecord(child, record, [[field, null]]);
      }
    }
  }
}

/** What a value is matched by: text keys and unique text values without regard to case, as Salesforce's default does. */
export function comparable(field: FieldMeta, value: FieldValue): FieldValue {
  return typeof value === 'string' && field.type !== 'reference' && field.type !== 'id' ? value.toLowerCase() : value;
}

function addTo(index: Map<FieldValue, SalesforceRecord[]>, key: FieldValue, record: SalesforceRecord): void {
  const holders = index.get(key);
  if (holders) holders.push(record);
  else index.set(key, [record]);
}

function removeFrom(index: Map<FieldValue, SalesforceRecord[]>, key: FieldValue, record: SalesforceRecord): void {
  const holders = index.get(key);
  if (!holders) return;
  const rest = holders.filter((r) => r !== record);
  if (rest.length > 0) index.set(key, rest);
  else index.delete(key);
}

/** Whether records can be matched by this field in an upsert: an external id on custom objects, any idLookup field on standard ones. */
export function isUpsertKey(meta: ObjectMeta, field: FieldMeta): boolean {
  return field.externalId || (!meta.custom && field.idLookup);
}

export function findField(meta: ObjectMeta, name: string): FieldMeta | undefined {
  return meta.fieldsByLowerName.get(name.toLowerCase());
}

/** Salesforce's timestamp form in REST answers: 2024-05-01T10:00:00.000+0000. */
export function sfTimestamp(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}
