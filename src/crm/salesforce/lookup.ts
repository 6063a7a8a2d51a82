// Finds the records that hold given key values: SELECT Id, Key[, fields] FROM Obj WHERE Key IN (…),
// with every value written as a SOQL literal by Salesforce's escaping rules (never spliced in raw),
// in as many queries as keep each request URI under Salesforce's limit, following queryMore pages.
import type { ApiDoor } from './api.js';
import type { SalesforceField, SalesforceObject } from './schema.js';

/** Salesforce refuses a request URI over 16,384 bytes; the rest is left for the headers. */
export const MAX_QUERY_URI_BYTES = 14_000;

const NUMERIC_TYPES = new Set(['double', 'currency', 'percent', 'int']);
const ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/**
 * A query parameter as it goes on the wire: encodeURIComponent leaves ' ! ( ) * as they are, but
 * the URL of a request percent-encodes ' in the query, so the quotes of every literal count triple.
 */
export function queryParam(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A quoted SOQL string literal: backslash, quotes and control characters escaped. */
export function soqlString(value: string): string {
  let out = "'";
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    if (ESCAPES[ch]) out += ESCAPES[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}'`;
}

/** The literal for a key value of this field: numbers bare (already checked to be decimals), text quoted. */
export function soqlLiteral(field: SalesforceField, value: string): string {
  return NUMERIC_TYPES.has(field.type) ? value : soqlString(value);
}

/**
 * Keys as Salesforce compares them: numbers by value, record ids by their 15-character form (the
 * 18-character one adds a case checksum), text without regard to case unless the field is case-sensitive.
 */
export function keyComparer(field: SalesforceField): (value: unknown) => string {
  if (NUMERIC_TYPES.has(field.type)) return (value) => String(Number(value));
  if (field.type === 'id') return (value) => String(value).slice(0, 15);
  return field.caseSensitive ? (value) => String(value) : (value) => String(value).toLowerCase();
}

/** The queries that together look up every key, each URI under the limit; `fields` are read too. */
export function lookupQueries(api: ApiDoor, object: SalesforceObject, field: SalesforceField, keys: string[], fields: string[] = []): string[] {
  const selected = [...new Set(['Id', field.name, ...fields])];
  const head = `SELECT ${selected.join(', ')} FROM ${object.name} WHERE ${field.name} IN (`;
  const fixedBytes = `${api.dataPath}/query?q=`.length + queryParam(`${head})`).length;
  const queries: string[] = [];
  let literals: string[] = [];
  let bytes = fixedBytes;
  const comma = queryParam(',').length;
  for (const key of new Set(keys)) {
    const literal = soqlLiteral(field, key);
    const cost = queryParam(literal).length;
    if (literals.length > 0 && bytes + comma + cost > MAX_QUERY_URI_BYTES) {
      queries.push(`${head}${literals.join(',')})`);
      literals = [];
      bytes = fixedBytes;
    }
    bytes += (literals.length > 0 ? comma : 0) + cost;
    literals.push(literal);
  }
  if (literals.length > 0) queries.push(`${head}${literals.join(',')})`);
  return queries;
}

interface QueryPage {
  done: boolean;
  nextRecordsUrl?: string;
  records: Record<string, unknown>[];
}

/** Key (as Salesforce compares it) → ids of the records holding it; keys no record holds are absent. */
export async function lookupIds(api: ApiDoor, object: SalesforceObject, field: SalesforceField, keys: string[]): Promise<Map<string, string[]>> {
  const records = await lookupRecords(api, object, field, keys, []);
  return new Map([...records].map(([key, held]) => [key, held.map((record) => String(record.Id))]));
}

/** Key (as Salesforce compares it) → the records holding it, with Id, the key and `fields`. */
export async function lookupRecords(
  api: ApiDoor, object: SalesforceObject, field: SalesforceField, keys: string[], fields: string[],
): Promise<Map<string, Record<string, unknown>[]>> {
  const compare = keyComparer(field);
  const found = new Map<string, Record<string, unknown>[]>();
  for (const soql of lookupQueries(api, object, field, keys, fields)) {
    let path: string | undefined = `/query?q=${queryParam(soql)}`;
    while (path) {
      const page: QueryPage = await api.expect<QueryPage>({ method: 'GET', path, idempotent: true, checkAnswer: queryPageProblem }, `the lookup of ${object.name} by ${field.name}`);
      for (const record of page.records) {
        const value = record[field.name];
        if (value === null || value === undefined) continue;
        const key = compare(value);
        found.set(key, [...(found.get(key) ?? []), record]);
      }
      path = page.done ? undefined : page.nextRecordsUrl;
    }
  }
  return found;
}

/** A query answers a page of records: anything else in a 2xx is not Salesforce's answer. */
function queryPageProblem(body: unknown): string | undefined {
  return Array.isArray((body as QueryPage | undefined)?.records) ? undefined : 'no records list';
}
