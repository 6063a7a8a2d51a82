// The describe answers (global and per object), shaped like Salesforce's so jsforce and the product
// read them unchanged. Only attributes a client could act on carry real values.
import type { FieldMeta, ObjectMeta } from './org.js';
import type { FieldType } from './types.js';

const SOAP_TYPES: Record<FieldType, string> = {
  string: 'xsd:string',
  textarea: 'xsd:string',
  email: 'xsd:string',
  phone: 'xsd:string',
  url: 'xsd:string',
  picklist: 'xsd:string',
  multipicklist: 'xsd:string',
  double: 'xsd:double',
  currency: 'xsd:double',
  percent: 'xsd:double',
  int: 'xsd:int',
  boolean: 'xsd:boolean',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
  reference: 'tns:ID',
  id: 'tns:ID',
};

function sobjectUrls(base: string, meta: ObjectMeta): Record<string, string> {
  const root = `${base}/sobjects/${meta.name}`;
  return { sobject: root, describe: `${root}/describe`, rowTemplate: `${root}/{ID}` };
}

/** The per-object entry of describeGlobal; also the object-level part of a full describe. */
export function globalEntry(base: string, meta: ObjectMeta): Record<string, unknown> {
  return {
    activateable: false,
    createable: meta.createable,
    custom: meta.custom,
    customSetting: false,
    deletable: meta.deletable,
    deprecatedAndHidden: false,
    feedEnabled: false,
    hasSubtypes: false,
    isSubtype: false,
    keyPrefix: meta.keyPrefix,
    label: meta.label,
    labelPlural: meta.labelPlural,
    layoutable: true,
    mergeable: false,
    mruEnabled: true,
    name: meta.name,
    queryable: true,
    replicateable: true,
    retrieveable: true,
    searchable: true,
    triggerable: true,
    undeletable: meta.deletable,
    updateable: meta.updateable,
    urls: sobjectUrls(base, meta),
  };
}

function picklistEntries(field: FieldMeta): Record<string, unknown>[] {
  return field.picklistValues.map((value) => ({ active: true, defaultValue: false, label: value, validFor: null, value }));
}

function isText(field: FieldMeta): boolean {
  return ['string', 'textarea', 'email', 'phone', 'url', 'picklist', 'multipicklist', 'reference', 'id'].includes(field.type);
}

function describeField(field: FieldMeta): Record<string, unknown> {
  return {
    autoNumber: false,
    byteLength: isText(field) ? field.length * 3 : 0,
    calculated: field.calculated,
    cascadeDelete: field.cascadeDelete,
    caseSensitive: false,
    createable: field.createable,
    custom: field.custom,
    defaultValue: null,
    defaultedOnCreate: field.defaultedOnCreate,
    dependentPicklist: false,
    digits: field.digits,
    externalId: field.externalId,
    filterable: true,
    groupable: !['double', 'currency', 'percent', 'textarea'].includes(field.type),
    htmlFormatted: false,
    idLookup: field.idLookup,
    label: field.label,
    length: isText(field) ? field.length : 0,
    name: field.name,
    nameField: field.nameField,
    nillable: field.nillable,
    permissionable: field.custom && field.nillable,
    picklistValues: picklistEntries(field),
    polymorphicForeignKey: field.referenceTo.length > 1,
    precision: field.precision,
    referenceTo: field.referenceTo,
    relationshipName: field.relationshipName,
    // Master-detail fields are ordered (0 for the first master); lookups have none.
    relationshipOrder: field.masterDetail ? 0 : null,
    restrictedDelete: false,
    restrictedPicklist: field.restrictedPicklist,
    scale: field.scale,
    soapType: SOAP_TYPES[field.type],
    sortable: field.type !== 'textarea' && field.type !== 'multipicklist',
    type: field.type,
    unique: field.unique,
    updateable: field.updateable,
    writeRequiresMasterRead: field.masterDetail,
  };
}

/**
 * The parent side of each reference to this object. Salesforce names a child relationship when the
 * field is created; here it is derived from the child (Invoice__c → Invoices__r, Contact → Contacts).
 */
function childRelationships(references: { child: ObjectMeta; field: FieldMeta }[]): Record<string, unknown>[] {
  return references.map(({ child, field }) => ({
    cascadeDelete: field.cascadeDelete,
    childSObject: child.name,
    deprecatedAndHidden: false,
    field: field.name,
    junctionIdListNames: [],
    junctionReferenceTo: [],
    relationshipName: child.custom ? `${child.name.replace(/__c$/i, '')}s__r` : `${child.name}s`,
    restrictedDelete: false,
  }));
}

export function describeObject(base: string, meta: ObjectMeta, references: { child: ObjectMeta; field: FieldMeta }[] = []): Record<string, unknown> {
  return {
    ...globalEntry(base, meta),
    childRelationships: childRelationships(references),
    fields: meta.fields.map(describeField),
    recordTypeInfos: [],
    supportedScopes: [{ label: 'All', name: 'everything' }],
  };
}

export function describeGlobal(base: string, objects: ObjectMeta[]): Record<string, unknown> {
  return { encoding: 'UTF-8', maxBatchSize: 200, sobjects: objects.map((meta) => globalEntry(base, meta)) };
}
