// Association definitions (types) per ordered pair of object types, as the v4 labels endpoint lists
// them: HubSpot's own between standard objects, one unlabeled default pair per `associatedObjects`
// entry of a custom object, and USER_DEFINED labels created through the API. Every type has an
// inverse: linking A to B with a type records B to A with its inverse.
import { HubSpotError, validationError } from './errors.js';
import { STANDARD_ASSOCIATION_TYPES } from './standard-objects.js';
import type { StoredSchema } from './types.js';

export type AssociationCategory = 'HUBSPOT_DEFINED' | 'USER_DEFINED' | 'INTEGRATOR_DEFINED';
export const CATEGORIES: ReadonlySet<string> = new Set(['HUBSPOT_DEFINED', 'USER_DEFINED', 'INTEGRATOR_DEFINED', 'WORK']);

export interface AssociationType {
  fromObjectTypeId: string;
  toObjectTypeId: string;
  category: AssociationCategory;
  typeId: number;
  /** null for unlabeled types, as HubSpot answers them. */
  label: string | null;
  /** The v3-style name (contact_to_company_unlabeled, or the name a label was created with). */
  name: string;
  /** The unlabeled type of its pair: what associate/default makes and what every link carries. */
  isDefault: boolean;
  inverse: AssociationType;
}

/** HubSpot allows this many labels per pair of objects (developer docs, "Create association types"). */
const MAX_LABELS_PER_PAIR = 10;

export class AssociationTypes {
  private readonly byPair = new Map<string, AssociationType[]>();
  /** USER_DEFINED ids are the portal's own; they may equal a HUBSPOT_DEFINED id (category tells them apart). */
  private nextUserTypeId = 1;

  constructor() {
    const made = new Map<number, AssociationType>();
    for (const def of STANDARD_ASSOCIATION_TYPES) {
      const type = {
        fromObjectTypeId: def.from, toObjectTypeId: def.to, category: 'HUBSPOT_DEFINED', typeId: def.typeId,
        label: def.primary ? 'Primary' : null, name: def.name, isDefault: !def.primary,
      } as AssociationType;
      made.set(def.typeId, type);
      this.add(type);
    }
    for (const def of STANDARD_ASSOCIATION_TYPES) made.get(def.typeId)!.inverse = made.get(def.inverse)!;
  }

  /** The pair's types, unlabeled default first; empty when the objects cannot be associated. */
  between(from: StoredSchema, to: StoredSchema): AssociationType[] {
    return this.byPair.get(pairKey(from.objectTypeId, to.objectTypeId)) ?? [];
  }

  defaultBetween(from: StoredSchema, to: StoredSchema): AssociationType | undefined {
    return this.between(from, to).find((type) => type.isDefault);
  }

  find(from: StoredSchema, to: StoredSchema, category: string, typeId: number): AssociationType | undefined {
    return this.between(from, to).find((type) => type.category === category && type.typeId === typeId);
  }

  /** A type from `from` to any object (inline associations name no target type: the type id implies it). */
  findFrom(from: StoredSchema, category: string, typeId: number): AssociationType | undefined {
    return [...this.byPair.values()].flat().find((t) => t.fromObjectTypeId === from.objectTypeId && t.category === category && t.typeId === typeId);
  }

  /** The unlabeled defaults from an object: the association definitions its schema lists. */
  definitionsFrom(from: StoredSchema): AssociationType[] {
    return [...this.byPair.values()].flat().filter((t) => t.fromObjectTypeId === from.objectTypeId && t.isDefault);
  }

  /** A custom object's `associatedObjects` entry: the unlabeled default both ways. */
  addDefaultPair(from: StoredSchema, to: StoredSchema): void {
    if (this.defaultBetween(from, to)) return;
    const forward = this.userType(from, to, null, `${from.name}_to_${to.name}`, true);
    const backward = from === to ? forward : this.userType(to, from, null, `${to.name}_to_${from.name}`, true);
    forward.inverse = backward;
    backward.inverse = forward;
  }

  /** POST .../labels: a USER_DEFINED label from→to and its inverse (inverseLabel, or the same label). */
  createLabel(from: StoredSchema, to: StoredSchema, body: Record<string, unknown> | undefined): AssociationType[] {
    const label = body?.label;
    const name = body?.name;
    const inverseLabel = body?.inverseLabel;
    if (typeof label !== 'string' || label.trim() === '') throw validationError('Invalid input JSON on line 1: label is required');
    if (typeof name !== 'string' || !/^[A-Za-z0-9_]+$/.test(name)) throw validationError('Invalid input JSON on line 1: name is required and may hold only letters, digits and underscores');
    if (inverseLabel !== undefined && (typeof inverseLabel !== 'string' || inverseLabel.trim() === '')) throw validationError('inverseLabel must be a non-empty string');
    const existing = this.between(from, to);
    if (existing.some((type) => type.name.toLowerCase() === name.toLowerCase() || type.label === label)) {
      throw new HubSpotError(409, 'CONFLICT', `An association label named ${name} ("${label}") already exists from ${from.objectTypeId} to ${to.objectTypeId}`);
    }
    if (existing.filter((type) => type.category === 'USER_DEFINED' && type.label !== null).length >= MAX_LABELS_PER_PAIR) {
      throw validationError(`At most ${MAX_LABELS_PER_PAIR} association labels may exist from ${from.objectTypeId} to ${to.objectTypeId}`);
    }
    const forward = this.userType(from, to, label, name, false);
    const backward = from === to && inverseLabel === undefined ? forward : this.userType(to, from, inverseLabel ?? label, `${name}_inverse`, false);
    forward.inverse = backward;
    backward.inverse = forward;
    return inverseLabel === undefined ? [forward] : [forward, backward];
  }

  private userType(from: StoredSchema, to: StoredSchema, label: string | null, name: string, isDefault: boolean): AssociationType {
    const type = { fromObjectTypeId: from.objectTypeId, toObjectTypeId: to.objectTypeId, category: 'USER_DEFINED', typeId: this.nextUserTypeId++, label, name, isDefault } as AssociationType;
    this.add(type);
    return type;
  }

  private add(type: AssociationType): void {
    const key = pairKey(type.fromObjectTypeId, type.toObjectTypeId);
    const list = this.byPair.get(key) ?? [];
    // The unlabeled default leads the list, as the labels endpoint answers it.
    if (type.isDefault) list.unshift(type);
    else list.push(type);
    this.byPair.set(key, list);
  }
}

function pairKey(from: string, to: string): string {
  return `${from}>${to}`;
}

/** How the labels endpoint and batch/read show a type. */
export function typeView(type: AssociationType): { category: AssociationCategory; typeId: number; label: string | null } {
  return { category: type.category, typeId: type.typeId, label: type.label };
}
