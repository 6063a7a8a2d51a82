// The columns a plan reads (match.source, fields[].source) against the columns a stream declares
// (a Singer SCHEMA, the Airbyte catalog's json_schema): a mapping naming a column the stream does
// not have would reject every row, so it is a config error found before writing.
import { closestNames } from './closest-name.js';
import type { StreamPlan } from './stream-plan.js';

const COLUMNS_LISTED = 5;

/** What is wrong, one sentence per missing column, or undefined when every column is declared. */
export function missingSourceColumns(plan: StreamPlan, declared: string[], stream: string, where: string): string | undefined {
  const known = new Set(declared);
  const read: [string, string][] = [[plan.match.source, 'match.source'], ...(plan.fields ?? []).map((f, i): [string, string] => [f.source, `fields[${i}].source`])];
  const problems = read
    .filter(([column]) => !known.has(column))
    .map(([column, key]) => `${plan.origin}: column "${column}" (${key}) is not in the ${where} of stream "${stream}"; closest columns: ${closestNames(column, declared, COLUMNS_LISTED).join(', ')}`);
  return problems.length > 0 ? problems.join('; ') : undefined;
}
