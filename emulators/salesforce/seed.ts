// Test-side access to the store: reading records back and placing records without going through
// the API (no required-field or permission checks, but names and value types must still fit).
import { newRecord } from './dml.js';
import { coerceJsonValue, type FieldValue } from './field-validation.js';
import { normalizeId } from './ids.js';
import { type FieldMeta, findField, type ObjectMeta, type Org, sfTimestamp } from './org.js';
import type { SalesforceRecord } from './types.js';

function objectNamed(org: Org, name: string): ObjectMeta {
  const meta = org.findObject(name);
  if (!meta) throw new Error(`unknown object: ${name}`);
  return meta;
}

export function storedRecords(org: Org, objectName: string): SalesforceRecord[] {
  return [...org.table(objectNamed(org, objectName)).values()].map((record) => ({ ...record }));
}

function seedId(org: Org, meta: ObjectMeta, given: unknown): string {
  if (given === undefined || given === null) return org.ids.next(meta.keyPrefix);
  const id = normalizeId(String(given));
  if (!id || org.objectOfId(id) !== meta) throw new Error(`seed Id ${String(given)} is not a ${meta.name} id`);
  return id;
}

function seedValues(meta: ObjectMeta, row: SalesforceRecord): [FieldMeta, FieldValue][] {
  return Object.entries(row)
    .filter(([key]) => key.toLowerCase() !== 'id')
    .map(([key, value]) => {
      const field = findField(meta, key);
      if (!field) throw new Error(`No such column '${key}' on sobject of type ${meta.name}`);
      return [field, coerceJsonValue(field, value, () => `field ${field.name}`)];
    });
}

export function seedRecords(org: Org, objectName: string, rows: SalesforceRecord[]): SalesforceRecord[] {
  const meta = objectNamed(org, objectName);
  const now = sfTimestamp(new Date());
  return rows.map((row) => {
    const idKey = Object.keys(row).find((k) => k.toLowerCase() === 'id');
    const id = seedId(org, meta, idKey ? row[idKey] : undefined);
    const record = newRecord(meta, { id, userId: org.userId, now }, seedValues(meta, row));
    org.insertRecord(meta, record);
    return { ...record };
  });
}
