// Setting a lookup or master-detail field through the parent's key instead of its id, as both write
// APIs allow: sObject Collections with `"Account__r": {"Account_Number__c": "A-1"}` (a polymorphic
// field adds `"attributes": {"type": "Account"}`), Bulk API 2.0 with a `Account__r.Account_Number__c`
// column (polymorphic: `Account:Owner__r.Account_Number__c`). The key must be an external-id or
// idLookup field of the parent. A key no record holds fails that row with Salesforce's
// "Foreign key external ID: … not found for field … in entity …"; the rest of the batch lands.
import { recordError, type RecordError } from './errors.js';
import type { FieldValue } from './field-validation.js';
import { type FieldMeta, findField, type ObjectMeta, type Org } from './org.js';

/** A relationship named in a request: which lookup it sets, and how it finds the parent. */
export interface ParentKey {
  lookup: FieldMeta;
  parent: ObjectMeta;
  key: FieldMeta;
}

/** Why a relationship cannot be used at all; callers refuse the whole request (or job) with it. */
export class RelationshipProblem extends Error {}

/** The reference field whose relationship name this is (Account__r, Owner), if any. */
export function lookupByRelationship(meta: ObjectMeta, name: string): FieldMeta | undefined {
  const lower = name.toLowerCase();
  return meta.fields.find((f) => f.type === 'reference' && f.relationshipName?.toLowerCase() === lower);
}

/**
 * The parent object and key field a relationship names. A polymorphic lookup needs the parent's
 * type; a single-target one accepts its own type only.
 */
export function parentKey(org: Org, lookup: FieldMeta, typeName: string | undefined, keyName: string): ParentKey {
  const parent = parentObject(org, lookup, typeName);
  const key = findField(parent, keyName);
  if (!key) throw new RelationshipProblem(`No such column '${keyName}' on sobject of type ${parent.name}`);
  if (!key.externalId && !key.idLookup) throw new RelationshipProblem(`${key.name} is not an External ID or indexed field for ${parent.name}`);
  return { lookup, parent, key };
}

function parentObject(org: Org, lookup: FieldMeta, typeName: string | undefined): ObjectMeta {
  if (typeName === undefined) {
    if (lookup.referenceTo.length > 1) {
      throw new RelationshipProblem(`${lookup.relationshipName} is polymorphic: name the parent's type (one of ${lookup.referenceTo.join(', ')})`);
    }
    return org.findObject(lookup.referenceTo[0])!;
  }
  const parent = org.findObject(typeName);
  if (!parent || !lookup.referenceTo.some((name) => name.toLowerCase() === parent.name.toLowerCase())) {
    throw new RelationshipProblem(`${typeName} is not a valid type for ${lookup.relationshipName}: it refers to ${lookup.referenceTo.join(', ')}`);
  }
  return parent;
}

/** The id of the one parent holding the key value, or the row's error. */
export function resolveParent(org: Org, { parent, key }: ParentKey, value: FieldValue): string | RecordError {
  const matches = value === null || value === '' ? [] : org.recordsWith(parent, key, value);
  if (matches.length === 1) return String(matches[0].Id);
  if (matches.length > 1) {
    const ids = matches.map((r) => r.Id).join(', ');
    return recordError('DUPLICATE_EXTERNAL_ID', `${key.label}: more than one record found for external id field: [${ids}]`, [key.name]);
  }
  return recordError('INVALID_FIELD', `Foreign key external ID: ${value ?? ''} not found for field ${key.name} in entity ${parent.name}`);
}
