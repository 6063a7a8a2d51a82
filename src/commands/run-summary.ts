import type { OutcomeCounts, RunCounts } from '../engine/counts.js';

const COLUMNS: (keyof OutcomeCounts)[] = ['received', 'created', 'updated', 'unchanged', 'removed', 'not_found', 'skipped', 'rejected'];

export function formatRunSummary(counts: RunCounts, durationMs: number): string {
  const rows = [...counts.byTarget.entries()].map(([target, c]) => [target, ...COLUMNS.map((k) => String(c[k]))]);
  if (rows.length > 1) rows.push(['total', ...COLUMNS.map((k) => String(counts.total()[k]))]);
  const header = ['object', ...COLUMNS];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [`run finished in ${(durationMs / 1000).toFixed(1)} s`, format(header), ...rows.map(format)].join('\n');
}
