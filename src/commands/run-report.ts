// The end-of-run report: per object what became of every row, the top rejection reasons, the API
// calls made. A table on stderr for people, JSON (--report FILE) for machines, and the warning
// threshold (warnings.max_rejected_percent) judged on it.
import { writeFileSync } from 'node:fs';
import type { Config } from '../config/spec.js';
import type { RunCounts, OutcomeCounts } from '../engine/counts.js';
import type { RejectedRecord } from '../protocol/rejected-file.js';
import type { Redactor } from '../protocol/log.js';

export interface RunReport {
  status: 'succeeded' | 'failed' | 'warning';
  started_at: string;
  finished_at: string;
  duration_ms: number;
  dry_run: boolean;
  /** Per object: what became of its rows, its API calls (where counted) and how long it took. */
  objects: Record<string, OutcomeCounts & { api_calls?: number; duration_ms: number }>;
  total: OutcomeCounts;
  rejected_percent: number;
  top_rejection_reasons: { code: string; field?: string; count: number }[];
  api_calls?: number;
  error?: string;
  warning?: string;
}

export class RejectionTally {
  private readonly byReason = new Map<string, { code: string; field?: string; count: number }>();

  add(record: RejectedRecord): void {
    const { code, field } = record.rejection;
    const id = `${code}\u0000${field ?? ''}`;
    const entry = this.byReason.get(id) ?? { code, field, count: 0 };
    entry.count += 1;
    this.byReason.set(id, entry);
  }

  top(n = 5): { code: string; field?: string; count: number }[] {
    return [...this.byReason.values()].sort((a, b) => b.count - a.count).slice(0, n);
  }
}

export function buildReport(input: {
  counts: RunCounts; started: Date; dryRun: boolean; tally: RejectionTally; apiCalls?: number; apiCallsByObject?: Map<string, number>; error?: string;
}): RunReport {
  const total = input.counts.total();
  const finished = new Date();
  const rejectedPercent = total.received === 0 ? 0 : Math.round((total.rejected / total.received) * 10_000) / 100;
  return {
    status: input.error ? 'failed' : 'succeeded',
    started_at: input.started.toISOString(),
    finished_at: finished.toISOString(),
    duration_ms: finished.getTime() - input.started.getTime(),
    dry_run: input.dryRun,
    objects: Object.fromEntries([...input.counts.byTarget].map(([target, counts]) => {
      const calls = input.apiCallsByObject?.get(target);
      return [target, { ...counts, ...(calls !== undefined ? { api_calls: calls } : {}), duration_ms: input.counts.durationMs(target) }];
    })),
    total,
    rejected_percent: rejectedPercent,
    top_rejection_reasons: input.tally.top(),
    ...(input.apiCalls !== undefined ? { api_calls: input.apiCalls } : {}),
    ...(input.error ? { error: input.error } : {}),
  };
}

/** The warning the report deserves under the config's threshold, if any. */
export function rejectionWarning(report: RunReport, config: Config): string | undefined {
  const limit = config.warnings?.max_rejected_percent;
  if (limit === undefined || report.rejected_percent <= limit) return undefined;
  const reasons = report.top_rejection_reasons.map((r) => `${r.code}${r.field ? ` [${r.field}]` : ''} ×${r.count}`).join(', ');
  return `${report.total.rejected} of ${report.total.received} rows rejected (${report.rejected_percent}%), above warnings.max_rejected_percent ${limit}%; top reasons: ${reasons}`;
}

export function writeReport(path: string, report: RunReport, redactor: Redactor): void {
  writeFileSync(path, `${redactor.redact(JSON.stringify(report, null, 2))}\n`);
}

/** Slack-compatible: `text` renders in a channel; the report rides along for other receivers. */
export async function postWebhook(url: string, report: RunReport, warning: string, redactor: Redactor): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: redactor.redact(JSON.stringify({ text: `crm-activate: ${warning}`, report })),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`the webhook answered ${response.status}`);
}
