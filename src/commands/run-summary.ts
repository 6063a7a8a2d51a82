import type { OutcomeCounts, RunCounts } from '../engine/counts.js';
import type { PlannedChange } from '../engine/dry-run.js';

const COLUMNS: (keyof OutcomeCounts)[] = ['received', 'created', 'updated', 'unchanged', 'removed', 'not_found', 'skipped', 'rejected', 'unknown', 'left_segment', 'cleared', 'archived'];

/**
 * One line per object, labelled `stream:object` (labels), a total line when there are several; API
 * calls where the CRM counts them.
 */
export function formatRunSummary(counts: RunCounts, durationMs: number, dryRun = false, apiCalls = new Map<string, number>(), totalApiCalls?: number, labels = new Map<string, string>()): string {
  const withCalls = apiCalls.size > 0;
  const calls = (value: number | undefined) => (withCalls ? [String(value ?? 0)] : []);
  const rows = [...counts.byTarget.entries()].map(([target, c]) => [labels.get(target) ?? target, ...COLUMNS.map((k) => String(c[k])), ...calls(apiCalls.get(target))]);
  if (rows.length > 1) rows.push(['total', ...COLUMNS.map((k) => String(counts.total()[k])), ...calls(totalApiCalls)]);
  const header = ['object', ...COLUMNS, ...(withCalls ? ['api_calls'] : [])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  const title = dryRun ? 'dry run: nothing was written; planned outcomes' : `run finished in ${(durationMs / 1000).toFixed(2)} s`;
  return [title, format(header), ...rows.map(format)].join('\n');
}

export function formatPlannedChanges(planned: Map<string, PlannedChange[]>): string {
  const lines: string[] = [];
  for (const [target, samples] of planned) {
    if (samples.length === 0) continue;
    lines.push(`${target}: sample of planned changes`);
    for (const sample of samples) lines.push(`  ${sample.action} ${sample.key}: ${JSON.stringify(sample.fields)}`);
  }
  return lines.length > 0 ? lines.join('\n') : 'dry run: no changes planned';
}
