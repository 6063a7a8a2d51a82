// A Salesforce object as the connector needs it, read from its describe: per field the type, the
// limits a value must fit (length, precision, picklist values), whether insert or update may set
// it, and whether it can match records (Id, external ids, other idLookup fields).
import type { ApiAnswer, SalesforceApi } from './api.js';
import { unexpectedFailure } from './api.js';

export const RECORD_ID = 'Id';

export interface PicklistValue {
  value: string;
  label: string;
}

export interface SalesforceField {
  name: string;
  label: string;
  type: string;
  length: number;
  precision: number;
  scale: number;
  digits: number;
  createable: boolean;
  updateable: boolean;
  nillable: boolean;
  defaultedOnCreate: boolean;
  calculated: boolean;
  autoNumber: boolean;
  externalId: boolean;
  idLookup: boolean;
  unique: boolean;
  caseSensitive: boolean;
  picklistValues: PicklistValue[];
  restrictedPicklist: boolean;
  /** Reference fields: the object(s) the id may point at (several: polymorphic). */
  referenceTo: string[];
  /** Reference fields: how a record names its parent (Account__r), in writes by the parent's key. */
  relationshipName: string | null;
}

export interface SalesforceObject {
  name: string;
  label: string;
  custom: boolean;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  fields: SalesforceField[];
  /** Field API names are case-insensitive in Salesforce: keyed by lower case. */
  fieldsByLowerName: Map<string, SalesforceField>;
}

export interface GlobalEntry {
  name: string;
  label: string;
  custom: boolean;
  customSetting: boolean;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
}

export function findField(object: SalesforceObject, name: string): SalesforceField | undefined {
  return object.fieldsByLowerName.get(name.toLowerCase());
}

export async function describeGlobal(api: SalesforceApi): Promise<GlobalEntry[]> {
  const body = await api.expect<{ sobjects: GlobalEntry[] }>({ method: 'GET', path: '/sobjects', idempotent: true }, 'the list of objects');
  return body.sobjects;
}

/** The object's describe; undefined when Salesforce has no object of that name. */
export async function describeObject(api: SalesforceApi, name: string): Promise<SalesforceObject | undefined> {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) return undefined;
  const answer: ApiAnswer<RawDescribe> = await api.request({ method: 'GET', path: `/sobjects/${name}/describe`, idempotent: true });
  if (!answer.ok) {
    if (answer.failure.errorCode === 'NOT_FOUND') return undefined;
    throw unexpectedFailure(`the describe of ${name}`, answer.failure);
  }
  return toObject(answer.body);
}

interface RawDescribe {
  name: string;
  label: string;
  custom: boolean;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  fields: Record<string, any>[];
}

function toObject(raw: RawDescribe): SalesforceObject {
  const fields = raw.fields.map(toField);
  return {
    name: raw.name,
    label: raw.label,
    custom: raw.custom,
    createable: raw.createable,
    updateable: raw.updateable,
    deletable: raw.deletable,
    fields,
    fieldsByLowerName: new Map(fields.map((f) => [f.name.toLowerCase(), f])),
  };
}

function toField(raw: Record<string, any>): SalesforceField {
  return {
    name: String(raw.name),
    label: String(raw.label ?? raw.name),
    type: String(raw.type),
    length: Number(raw.length ?? 0),
    precision: Number(raw.precision ?? 0),
    scale: Number(raw.scale ?? 0),
    digits: Number(raw.digits ?? 0),
    createable: raw.createable === true,
    updateable: raw.updateable === true,
    nillable: raw.nillable === true,
    defaultedOnCreate: raw.defaultedOnCreate === true,
    calculated: raw.calculated === true,
    autoNumber: raw.autoNumber === true,
    externalId: raw.externalId === true,
    idLookup: raw.idLookup === true,
    unique: raw.unique === true,
    caseSensitive: raw.caseSensitive === true,
    picklistValues: ((raw.picklistValues ?? []) as Record<string, unknown>[])
      .filter((p) => p.active !== false)
      .map((p) => ({ value: String(p.value), label: String(p.label ?? p.value) })),
    restrictedPicklist: raw.restrictedPicklist === true,
    referenceTo: Array.isArray(raw.referenceTo) ? raw.referenceTo.map(String) : [],
    relationshipName: typeof raw.relationshipName === 'string' && raw.relationshipName !== '' ? raw.relationshipName : null,
  };
}

/** Why a field cannot be written by this kind of write; undefined when it can. */
export function unwritableReason(field: SalesforceField, write: 'insert' | 'update'): string | undefined {
  if (field.calculated) return 'it is a formula field';
  if (field.autoNumber) return 'it is an auto-number field';
  if (write === 'insert' && !field.createable) return field.updateable ? 'it is not createable, so insert cannot set it' : 'it is read-only';
  if (write === 'update' && !field.updateable) return field.createable ? 'it is not updateable, so update cannot change it' : 'it is read-only';
  return undefined;
}

export function externalIdFields(object: SalesforceObject): SalesforceField[] {
  return object.fields.filter((f) => f.externalId);
}

/** JSON Schema of what a row may hold for this object (Airbyte DESTINATION_CATALOG). */
export function jsonSchemaOf(object: SalesforceObject): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const field of object.fields) {
    if (field.name === RECORD_ID || field.createable || field.updateable) properties[field.name] = jsonSchemaOfField(field);
  }
  return { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', additionalProperties: true, properties };
}

function jsonSchemaOfField(field: SalesforceField): Record<string, unknown> {
  const described = { title: field.label };
  switch (field.type) {
    case 'double':
    case 'currency':
    case 'percent':
      return { ...described, type: ['number', 'null'] };
    case 'int':
      return { ...described, type: ['integer', 'null'] };
    case 'boolean':
      return { ...described, type: ['boolean', 'null'] };
    case 'date':
      return { ...described, type: ['string', 'null'], format: 'date' };
    case 'datetime':
      return { ...described, type: ['string', 'null'], format: 'date-time', airbyte_type: 'timestamp_with_timezone' };
    case 'time':
      return { ...described, type: ['string', 'null'], format: 'time' };
    case 'picklist': {
      const values = field.picklistValues.map((p) => p.value);
      return field.restrictedPicklist && values.length > 0 ? { ...described, type: ['string', 'null'], enum: [...values, null] } : { ...described, type: ['string', 'null'] };
    }
    case 'multipicklist': {
      const items = field.restrictedPicklist ? { type: 'string', enum: field.picklistValues.map((p) => p.value) } : { type: 'string' };
      return { ...described, type: ['array', 'string', 'null'], items };
    }
    default: {
      const maxLength = field.length > 0 ? { maxLength: field.length } : {};
      return { ...described, type: ['string', 'null'], ...maxLength };
    }
  }
}
