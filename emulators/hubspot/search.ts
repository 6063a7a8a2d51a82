// POST /crm/v3/objects/{type}/search: filter groups ORed, filters inside a group ANDed, with
// HubSpot's limits (5 groups, 10 filters a group, 25 in all, limit ≤ 200). Enough for lookups.
// Search reads an index that lags the records: a record created less than `lagMs` ago is not found
// yet (HubSpot documents a delay of a few seconds), while batch/read sees it at once.
import { validationError } from './errors.js';
import { view } from './objects.js';
import type { Portal } from './portal.js';
import type { Reply, StoredRecord, StoredSchema } from './types.js';

interface Filter {
  propertyName: string;
  operator: string;
  value?: unknown;
  values?: unknown[];
  highValue?: unknown;
}

const OPERATORS = new Set(['EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN', 'NOT_CONTAINS_TOKEN']);

export function search(portal: Portal, schema: StoredSchema, body: Record<string, any>, lagMs = 0): Reply {
  const groups: { filters: Filter[] }[] = Array.isArray(body?.filterGroups) ? body.filterGroups : [];
  const limit = body?.limit ?? 10;
  checkLimits(groups, limit, body?.query);
  const matches = [...portal.recordsOf(schema).values()]
    .filter((record) => !record.archived && Date.now() - Date.parse(record.createdAt) >= lagMs)
    .filter((record) => groups.length === 0 || groups.some((group) => group.filters.every((filter) => matchesFilter(record, filter))));
  const start = Number(body?.after ?? 0);
  const properties: string[] = Array.isArray(body?.properties) && body.properties.length > 0 ? body.properties : defaultProperties(schema);
  const results = matches.slice(start, start + limit).map((record) => view(record, properties));
  const paging = start + limit < matches.length ? { paging: { next: { after: String(start + limit) } } } : {};
  return { status: 200, body: { total: matches.length, results, ...paging } };
}

function checkLimits(groups: { filters: Filter[] }[], limit: unknown, query: unknown): void {
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > 200) throw validationError('limit must be between 1 and 200');
  if (typeof query === 'string' && query.length > 3000) throw validationError('query must be at most 3000 characters');
  if (groups.length > 5) throw validationError('Too many filter groups: at most 5 are allowed');
  let total = 0;
  for (const group of groups) {
    if (!Array.isArray(group?.filters)) throw validationError('every filter group needs filters');
    if (group.filters.length > 10) throw validationError('Too many filters in a group: at most 10 are allowed');
    total += group.filters.length;
    for (const filter of group.filters) {
      if (!OPERATORS.has(filter.operator)) throw validationError(`Unknown operator ${String(filter.operator)}`);
    }
  }
  if (total > 25) throw validationError('Too many filters: at most 25 are allowed');
}

function matchesFilter(record: StoredRecord, filter: Filter): boolean {
  const actual = record.properties[filter.propertyName];
  const has = actual !== undefined && actual !== '';
  const same = (expected: unknown) => has && actual.toLowerCase() === String(expected).toLowerCase();
  const compare = (expected: unknown) => (has ? Number(actual) - Number(expected) : Number.NaN);
  switch (filter.operator) {
    case 'EQ': return same(filter.value);
    case 'NEQ': return !same(filter.value);
    case 'IN': return (filter.values ?? []).some(same);
    case 'NOT_IN': return !(filter.values ?? []).some(same);
    case 'HAS_PROPERTY': return has;
    case 'NOT_HAS_PROPERTY': return !has;
    case 'LT': return compare(filter.value) < 0;
    case 'LTE': return compare(filter.value) <= 0;
    case 'GT': return compare(filter.value) > 0;
    case 'GTE': return compare(filter.value) >= 0;
    case 'BETWEEN': return compare(filter.value) >= 0 && compare(filter.highValue) <= 0;
    case 'CONTAINS_TOKEN': return has && actual.toLowerCase().split(/\s+/).includes(String(filter.value).toLowerCase());
    case 'NOT_CONTAINS_TOKEN': return !(has && actual.toLowerCase().split(/\s+/).includes(String(filter.value).toLowerCase()));
    default: return false;
  }
}

/** Without `properties`, search answers the display properties and the system dates. */
function defaultProperties(schema: StoredSchema): string[] {
  return [schema.primaryDisplayProperty, ...schema.secondaryDisplayProperties].filter((name): name is string => Boolean(name));
}
