// Lookup and master-detail fields set through the parent's key (`fields[].lookup`): the row holds
// the parent's external-id (or idLookup) value and the write itself names the parent by it, in each
// API's relationship syntax, so no query looks the parent's id up first:
//   sObject Collections: "Account__r": {"Account_Number__c": "A-1"}; a polymorphic field adds
//   "attributes": {"type": "Account"} to say which kind of parent it is;
//   Bulk API 2.0: a column Account__r.Account_Number__c; polymorphic: Account:Account__r.Account_Number__c.
// A key no parent holds rejects that row only, with Salesforce's own INVALID_FIELD "Foreign key
// external ID: A-9 not found for field Account_Number__c in entity Account". An empty key clears
// the field: no parent key can say "none", so the reference field itself goes out null (#N/A in CSV).
import { closestNames, didYouMean } from '../../config/closest-name.js';
import type { FieldMap } from '../../config/stream-plan.js';
import type { Problem, RowOutcome } from '../destination.js';
import { findField, type SalesforceField, type SalesforceObject } from './schema.js';
import { toJsonValue, type SalesforceValue } from './values.js';

/** How one reference field of the written object is set: through this parent's key field. */
export interface ParentLink {
  field: SalesforceField;
  relationshipName: string;
  /** The parent object's API name, as Salesforce spells it. */
  parent: string;
  key: SalesforceField;
  polymorphic: boolean;
}

/** Parent links by the reference field's API name. */
export type ParentLinks = Map<string, ParentLink>;

/** Describes a parent object; undefined when Salesforce has none of that name (or hides it). */
export type DescribeParent = (name: string) => Promise<SalesforceObject | undefined>;

/** Checks every `lookup` of the plan against the describes; links what passes, names what does not. */
export async function linkParents(fields: FieldMap[], object: SalesforceObject, describe: DescribeParent): Promise<{ links: ParentLinks; problems: Problem[] }> {
  const links: ParentLinks = new Map();
  const problems: Problem[] = [];
  for (const mapping of fields) {
    if (!mapping.lookup) continue;
    const linked = await linkParent(mapping, object, describe);
    if (!linked) continue;
    if ('message' in linked) problems.push(linked);
    else links.set(linked.field.name, linked);
  }
  return { links, problems };
}

/** The link, what is wrong with it, or undefined for a field that does not exist (the field checks report it). */
async function linkParent({ destination, lookup }: FieldMap, object: SalesforceObject, describe: DescribeParent): Promise<ParentLink | Problem | undefined> {
  const { object: parentName, match } = lookup!;
  const field = findField(object, destination);
  if (!field) return undefined;
  if (field.type !== 'reference' || field.referenceTo.length === 0) {
    const references = object.fields.filter((f) => f.type === 'reference' && (f.createable || f.updateable)).map((f) => f.name);
    const those = references.length > 0 ? `its writable ones: ${closestNames(field.name, references, 5).join(', ')}` : `${object.name} has none`;
    return { field: field.name, message: `fields[] "${field.name}" has a lookup, but it is a ${field.type} field, not a lookup or master-detail field of ${object.name} (${those})` };
  }
  const target = field.referenceTo.find((name) => name.toLowerCase() === parentName.toLowerCase());
  if (!target) {
    return { field: field.name, message: `lookup.object "${parentName}" of ${field.name}: ${field.name} refers to ${field.referenceTo.join(', ')}, not ${parentName}${didYouMean(parentName, field.referenceTo)}` };
  }
  if (!field.relationshipName) return { field: field.name, message: `${field.name} of ${object.name} has no relationship name, so Salesforce cannot set it through ${target}'s key` };
  const parent = await describe(target);
  if (!parent) return { field: field.name, message: `lookup.object "${target}" of ${field.name} does not exist in Salesforce or this user cannot see it` };
  const key = findField(parent, match);
  const keys = parent.fields.filter((f) => f.externalId || f.idLookup).map((f) => f.name);
  if (!key) return { field: field.name, message: `lookup.match "${match}" of ${field.name} does not exist on ${parent.name}${didYouMean(match, parent.fields.map((f) => f.name))}` };
  if (!key.externalId && !key.idLookup) {
    const choices = closestNames(match, keys, 5);
    return {
      field: field.name,
      message: `lookup.match "${key.name}" of ${field.name} is neither an external-id nor an idLookup field of ${parent.name}, so Salesforce cannot find the parent by it; use one (${choices.join(', ')}) or mark it External ID in Setup`,
    };
  }
  return { field, relationshipName: field.relationshipName, parent: parent.name, key, polymorphic: field.referenceTo.length > 1 };
}

/** The sObject Collections member that sets the field: the relationship by the parent's key, or the field itself cleared. */
export function relationshipMember(link: ParentLink, value: SalesforceValue): [string, unknown] {
  if (value === null) return [link.field.name, null];
  const type = link.polymorphic ? { attributes: { type: link.parent } } : {};
  return [link.relationshipName, { ...type, [link.key.name]: toJsonValue(link.key, value) }];
}

/** The Bulk API 2.0 column that sets the field: the relationship column, or the field's own to clear it. */
export function relationshipColumn(link: ParentLink, value: SalesforceValue): string {
  if (value === null) return link.field.name;
  const path = `${link.relationshipName}.${link.key.name}`;
  return link.polymorphic ? `${link.parent}:${path}` : path;
}

const FOREIGN_KEY_NOT_FOUND = /^Foreign key external ID: .* not found for field (\w+) in entity (\w+)/;

/** Salesforce names no field when a parent's key is not found: the row's rejection names the lookup field it was for. */
export function withLookupField(outcome: RowOutcome, links: ParentLinks): RowOutcome {
  if (outcome.status !== 'rejected' || outcome.field) return outcome;
  const [, key, parent] = FOREIGN_KEY_NOT_FOUND.exec(outcome.message) ?? [];
  if (!key) return outcome;
  const link = [...links.values()].find((l) => l.key.name.toLowerCase() === key.toLowerCase() && l.parent.toLowerCase() === parent.toLowerCase());
  return link ? { ...outcome, field: link.field.name } : outcome;
}
