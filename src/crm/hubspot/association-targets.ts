// What an `associations` entry names, resolved once per run against the portal: the target object,
// the field its keys are matched by, and the association type (a label, or the pair's default)
// from the labels endpoint. Each problem names the key at fault and the closest valid names.
import { bugError } from '../../errors.js';
import { didYouMean } from '../../config/closest-name.js';
import type { AssociationPlan } from '../../config/stream-plan.js';
import type { Problem } from '../destination.js';
import { errorText, type HubSpotApi } from './api.js';
import { resultsList } from './batch-read.js';
import { RECORD_ID, resolveObject, toProperty, type HubSpotObject, type HubSpotProperty } from './properties.js';

/** An association type as the v4 endpoints take it. */
export interface AssociationSpec {
  associationCategory: string;
  associationTypeId: number;
}

export interface AssociationTarget {
  plan: AssociationPlan;
  /** Where the plan sits in its objects entry, for messages: associations[1]. */
  origin: string;
  objectTypeId: string;
  /** The target object's name, for messages (contacts, p123_customers). */
  name: string;
  /** The property targets are read by (batch read's idProperty); undefined: by record id. */
  idProperty?: string;
  /** The type links are made with; undefined for the default, made by associate/default. */
  label?: AssociationSpec;
  /** The pair's unlabeled type: removing it removes the whole association. */
  unlabeled: AssociationSpec;
}

/** HubSpot's standard objects an association may name, by every name the API accepts. */
const STANDARD_OBJECTS: Record<string, { objectTypeId: string; name: string }> = {};
for (const [objectTypeId, plural, singular] of [['0-1', 'contacts', 'contact'], ['0-2', 'companies', 'company'], ['0-3', 'deals', 'deal'], ['0-5', 'tickets', 'ticket']]) {
  for (const alias of [objectTypeId, plural, singular]) STANDARD_OBJECTS[alias] = { objectTypeId, name: plural };
}

interface LabelView {
  category: string;
  typeId: number;
  label: string | null;
}

export async function resolveAssociations(api: HubSpotApi, from: HubSpotObject, plans: AssociationPlan[]): Promise<{ targets: AssociationTarget[]; problems: Problem[] }> {
  const targets: AssociationTarget[] = [];
  const problems: Problem[] = [];
  const fields = new Set<string>();
  for (const [i, plan] of plans.entries()) {
    const at = `associations[${i}]`;
    if (fields.has(plan.field)) {
      problems.push({ message: `${at} repeats an association to "${plan.to}"${plan.label ? ` labelled "${plan.label}"` : ''}: each target and label may appear once` });
      continue;
    }
    fields.add(plan.field);
    const resolved = await resolveOne(api, from, plan, at);
    if ('problem' in resolved) problems.push(resolved.problem);
    else targets.push(resolved);
  }
  return { targets, problems };
}

async function resolveOne(api: HubSpotApi, from: HubSpotObject, plan: AssociationPlan, at: string): Promise<AssociationTarget | { problem: Problem }> {
  const target = await targetObject(api, plan.to);
  if ('problem' in target) return { problem: { message: `${at}.to: ${target.problem}` } };
  const idProperty = matchProperty(plan, target);
  if (typeof idProperty === 'object') return { problem: { field: plan.match, message: `${at}.match: ${idProperty.problem}` } };
  const labels = await labelsBetween(api, from.objectTypeId, target.objectTypeId);
  const unlabeled = labels.find((type) => type.label === null);
  if (!unlabeled) return { problem: { message: `${at}: ${from.name} cannot be associated with ${target.name}: HubSpot defines no association between them` } };
  const base = { plan, origin: at, objectTypeId: target.objectTypeId, name: target.name, idProperty, unlabeled: specOf(unlabeled) };
  if (plan.label === undefined) return base;
  const named = labels.filter((type) => type.label !== null);
  const label = named.find((type) => type.label === plan.label) ?? named.find((type) => type.label!.toLowerCase() === plan.label!.toLowerCase());
  if (!label) {
    const choices = named.length > 0 ? `; labels from ${from.name} to ${target.name}: ${named.map((type) => type.label).join(', ')}` : `; there are no labels from ${from.name} to ${target.name}`;
    return { problem: { message: `${at}.label "${plan.label}" is not an association label${didYouMean(plan.label, named.map((type) => type.label!))}${choices}` } };
  }
  return { ...base, label: specOf(label) };
}

interface TargetObject {
  objectTypeId: string;
  name: string;
  properties: Map<string, HubSpotProperty>;
}

async function targetObject(api: HubSpotApi, wanted: string): Promise<TargetObject | { problem: string }> {
  const standard = STANDARD_OBJECTS[wanted.toLowerCase()];
  if (standard) {
    const raw = await api.typed(`properties of ${standard.name}`, (c) => c.crm.properties.coreApi.getAll(standard.objectTypeId));
    return { ...standard, properties: new Map(raw.results.map((p) => [p.name, toProperty(p)] as const)) };
  }
  const custom = await resolveObject(api, wanted);
  if (custom) return { objectTypeId: custom.objectTypeId, name: custom.name, properties: custom.properties };
  return { problem: `"${wanted}" is not an object HubSpot knows${didYouMean(wanted, Object.keys(STANDARD_OBJECTS))}; use contacts, companies, deals, tickets or a custom object's name, fully qualified name or objectTypeId` };
}

/** The batch read idProperty for the plan's match, undefined for record ids, or why it cannot find records. */
function matchProperty(plan: AssociationPlan, target: TargetObject): string | undefined | { problem: string } {
  if (plan.match === RECORD_ID) return undefined;
  // HubSpot reads contacts by email (its unique identifier for them) whatever the property says.
  if (plan.match === 'email' && target.objectTypeId === '0-1') return 'email';
  const property = target.properties.get(plan.match);
  if (!property) return { problem: `"${plan.match}" is not a property of ${target.name}${didYouMean(plan.match, target.properties.keys())}` };
  if (!property.hasUniqueValue) {
    const unique = [...target.properties.values()].filter((p) => p.hasUniqueValue).map((p) => p.name);
    const emails = target.objectTypeId === '0-1' ? ['email'] : [];
    const choices = [RECORD_ID, ...emails, ...unique.filter((name) => !emails.includes(name))].join(', ');
    return { problem: `"${plan.match}" of ${target.name} does not hold unique values, so a key cannot identify one record; match by one of: ${choices}` };
  }
  return plan.match;
}

async function labelsBetween(api: HubSpotApi, fromTypeId: string, toTypeId: string): Promise<LabelView[]> {
  const response = await api.request({ method: 'GET', path: `/crm/v4/associations/${fromTypeId}/${toTypeId}/labels`, idempotent: true, checkAnswer: resultsList });
  if (response.status === 404 || response.status === 400) return [];
  if (response.status !== 200) throw bugError(`unexpected HubSpot answer ${response.status} to the association labels: ${errorText(response.body)}`);
  return (response.body.results as LabelView[]).filter((type) => typeof type.typeId === 'number' && typeof type.category === 'string');
}

function specOf(type: LabelView): AssociationSpec {
  return { associationCategory: type.category, associationTypeId: type.typeId };
}
