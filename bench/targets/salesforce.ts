// Salesforce as a benchmark target: the example Invoice__c object (Region__c made optional, as the
// benchmark's rows have no region), upserted by its external id Invoice_Number__c, with the
// product's default API choice (auto: a flush of at least 2,000 rows is one Bulk API 2.0 job of up
// to 10,000 rows, a smaller one goes out as sObject Collections calls of 200).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';
import { KEY_COLUMN, VALUE_COLUMNS } from '../rows.js';
import type { BenchTarget, Pace } from '../target.js';

export const SALESFORCE_CLIENT = { clientId: 'crm-activate-bench-client', clientSecret: 'bench-client-secret-0123456789' };
export const SALESFORCE_OBJECT = 'Invoice__c';
/** Rows per Bulk API 2.0 job (the writer's batch, src/crm/salesforce/writer.ts BULK_BATCH_ROWS). */
const JOB_ROWS = 10_000;
/** Rows per sObject Collections call. */
const COLLECTION_ROWS = 200;
/** crm.bulk_threshold's default: a smaller flush goes out as collection calls. */
const BULK_THRESHOLD = 2_000;

/** Bench column → Invoice__c field. */
const FIELDS: Record<(typeof VALUE_COLUMNS)[number], string> = {
  customer_email: 'Customer_Email__c',
  amount: 'Amount__c',
  quantity: 'Quantity__c',
  status: 'Status__c',
  tags: 'Tags__c',
  due_date: 'Due_Date__c',
  issued_at: 'Issued_At__c',
  is_overdue: 'Is_Overdue__c',
  note: 'Notes__c',
};

export function benchObject(): Record<string, unknown> {
  const object = JSON.parse(readFileSync(join(repoRoot, 'examples/salesforce/invoice-object.json'), 'utf8'));
  for (const field of object.fields) if (field.name === 'Region__c') delete field.required;
  return object;
}

/** Writes the auto choice makes for one flush of `rows`: one job from the threshold, else collection calls. */
function callsForFlush(rows: number): number {
  if (rows === 0) return 0;
  return rows >= BULK_THRESHOLD ? 1 : Math.ceil(rows / COLLECTION_ROWS);
}

export const salesforce: BenchTarget = {
  crm: 'salesforce',
  batchMax: JOB_ROWS,
  minimumRule: 'one Bulk API job per 10,000 rows (below 2,000 left over: collection calls of 200); sObject Collections: ceil(changed / 200)',
  defaultTitle: 'Bulk API 2.0 (api auto)',
  // Ten jobs, not two: with two the run is mostly the last job's latency, which nothing can hide.
  latencyRows: 100_000,
  variants: [{ id: 'rest', title: 'sObject Collections', latencyRows: 20_000 }],
  // No rolling-window ceiling: a daily allowance of requests and a cap on concurrent long-running
  // requests. So there is no throttled run, and no rate ceiling to judge latency against.
  topRateLimit: undefined,
  throttleLimit: undefined,
  // Bulk: full batches are jobs; what is left at the end is one more job, or collection calls below the threshold.
  minimumWriteCalls: (changed, variant) => variant === 'rest'
    ? Math.ceil(changed / COLLECTION_ROWS)
    : Math.floor(changed / JOB_ROWS) + callsForFlush(changed % JOB_ROWS),
  // The org's daily API requests, shared by its integrations: a run stops at 80 % of them by default.
  quota: {
    defaultPercent: 80,
    // Sign-in aside: /limits, the job list, describe; then per job its creation, upload, close, a poll and the results file.
    requestsFor: (rows) => 3 + 5 * Math.ceil(rows / JOB_ROWS),
  },
  emulatorOptions: (pace: Pace) => ({
    clients: [SALESFORCE_CLIENT],
    objects: [benchObject()],
    // The platform takes seconds to start a job; the emulator only what processing the rows costs.
    bulkProcessingDelayMs: 0,
    ...(pace.kind === 'quota' ? { dailyApiLimit: pace.dailyApiRequests } : {}),
  }),
  config: (url, statePath, _pace: Pace, variant) => ({
    crm: {
      type: 'salesforce',
      login_url: url,
      auth: { type: 'client_credentials', client_id: SALESFORCE_CLIENT.clientId, client_secret: SALESFORCE_CLIENT.clientSecret },
      ...(variant === 'rest' ? { api: 'rest' } : {}),
    },
    objects: [{
      object: SALESFORCE_OBJECT,
      mode: 'upsert',
      match: { source: KEY_COLUMN, destination: 'Invoice_Number__c' },
      fields: VALUE_COLUMNS.map((column) => ({ source: column, destination: FIELDS[column] })),
    }],
    state: { path: statePath },
  }),
};
