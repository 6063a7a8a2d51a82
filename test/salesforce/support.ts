// Shared set-up for Salesforce CLI tests: an emulator holding the example Invoice__c object and one
// OAuth client, and a config pointing the real CLI at it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSalesforceEmulator, type CustomObjectDef, type SalesforceEmulator, type SalesforceEmulatorOptions } from '../../emulators/salesforce/index.ts';
import { repoRoot } from '../support/airbyte-protocol.ts';
import { tempDir, writeJson } from '../support/run-cli.ts';

export const CLIENT = { clientId: 'crm-activate-test-client', clientSecret: 'client-secret-0123456789', refreshToken: 'refresh-token-0123456789' };
export const invoiceObject: CustomObjectDef = JSON.parse(readFileSync(join(repoRoot, 'examples/salesforce/invoice-object.json'), 'utf8'));

export function startOrg(options: SalesforceEmulatorOptions = {}): Promise<SalesforceEmulator> {
  return startSalesforceEmulator({ clients: [CLIENT], objects: [invoiceObject], bulkProcessingDelayMs: 10, ...options });
}

type Extra = Record<string, unknown> | ((dir: string) => Record<string, unknown>);

export function salesforceConfig(emulator: SalesforceEmulator, objectEntry: Record<string, unknown>, crm: Record<string, unknown> = {}, extra: Extra = {}) {
  const dir = tempDir();
  const config = {
    crm: { type: 'salesforce', login_url: emulator.url, auth: { type: 'client_credentials', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret }, ...crm },
    objects: [{ object: 'Invoice__c', ...objectEntry }],
    state: { path: join(dir, 'state.db') },
    ...(typeof extra === 'function' ? extra(dir) : extra),
  };
  return { dir, path: writeJson(dir, 'config.json', config) };
}

/** The example mapping: warehouse column → Invoice__c field. */
export const FIELDS = [
  ['customer_email', 'Customer_Email__c'], ['amount', 'Amount__c'], ['quantity', 'Quantity__c'], ['status', 'Status__c'],
  ['tags', 'Tags__c'], ['due_date', 'Due_Date__c'], ['issued_at', 'Issued_At__c'], ['is_overdue', 'Is_Overdue__c'],
  ['region', 'Region__c'], ['notes', 'Notes__c'],
].map(([source, destination]) => ({ source, destination }));

export const BY_NUMBER = { match: { source: 'invoice_id', destination: 'Invoice_Number__c' }, fields: FIELDS };

export function invoiceRows(count: number, from = 0): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    return {
      invoice_id: `INV-${String(n).padStart(5, '0')}`,
      customer_email: `buyer${n}@example.com`,
      amount: n + 0.25,
      quantity: n % 7,
      status: ['open', 'Paid', 'VOID'][n % 3],
      tags: n % 2 ? ['priority', 'Recurring'] : [],
      due_date: '2026-03-01',
      issued_at: '2026-02-01 08:30:00',
      is_overdue: n % 2 === 0,
      region: ['EMEA', 'AMER', 'APAC'][n % 3],
    };
  });
}

export const jsonl = (rows: unknown[]) => rows.map((row) => JSON.stringify(row));

/** Data-changing calls in the emulator's log, as "METHOD path-without-version". */
export function writeCalls(emulator: SalesforceEmulator): string[] {
  return emulator.requests
    .filter((r) => r.method !== 'GET' && r.path.includes('/services/data/'))
    .map((r) => `${r.method} ${r.path.replace(/^\/services\/data\/v[\d.]+/, '').replace(/\/750[A-Za-z0-9]+/, '/{job}')}`);
}

export const byNumber = (emulator: SalesforceEmulator) => new Map(emulator.records('Invoice__c').map((r) => [r.Invoice_Number__c as string, r]));
