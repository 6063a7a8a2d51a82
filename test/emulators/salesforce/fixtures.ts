// Shared setup for the Salesforce emulator tests: one custom object with a field of each kind the
// connector writes, one OAuth client, and small helpers for raw HTTP calls.
import jsforce from 'jsforce';
import { startSalesforceEmulator } from '../../../emulators/salesforce/index.ts';
import type { CustomObjectDef, SalesforceEmulator, SalesforceEmulatorOptions } from '../../../emulators/salesforce/index.ts';

export const API = '/services/data/v62.0';

/** Account with an external id (and a plain text field) added, as lookups through a parent key need. */
export const ACCOUNT_FIELDS: CustomObjectDef = {
  name: 'Account',
  fields: [
    { name: 'Account_Number__c', label: 'Account Number', type: 'string', length: 20, externalId: true, unique: true },
    { name: 'Legacy_Code__c', label: 'Legacy Code', type: 'string', length: 20 },
  ],
};
export const CLIENT = { clientId: 'test-client', clientSecret: 'test-secret', refreshToken: 'test-refresh', username: 'integration@example.com' };

export const INVOICE: CustomObjectDef = {
  name: 'Invoice__c',
  label: 'Invoice',
  fields: [
    { name: 'Invoice_Number__c', label: 'Invoice Number', type: 'string', length: 40, externalId: true, unique: true },
    { name: 'Amount__c', label: 'Amount', type: 'currency', precision: 16, scale: 2 },
    { name: 'Status__c', label: 'Status', type: 'picklist', picklistValues: ['Draft', 'Sent', 'Paid'], restrictedPicklist: true },
    { name: 'Issued_On__c', label: 'Issued On', type: 'date' },
    { name: 'Paid_At__c', label: 'Paid At', type: 'datetime' },
    { name: 'Customer_Email__c', label: 'Customer Email', type: 'email' },
    { name: 'Notes__c', label: 'Notes', type: 'textarea', length: 1000 },
    { name: 'Is_Overdue__c', label: 'Is Overdue', type: 'boolean' },
    { name: 'Region__c', label: 'Region', type: 'string', length: 20, required: true },
    { name: 'Total_With_Tax__c', label: 'Total With Tax', type: 'double', calculated: true },
  ],
};

export function startOrg(options: SalesforceEmulatorOptions = {}): Promise<SalesforceEmulator> {
  return startSalesforceEmulator({ clients: [CLIENT], objects: [INVOICE], bulkProcessingDelayMs: 20, ...options });
}

/** A jsforce connection holding a token the emulator issued directly. */
export function tokenConnection(emulator: SalesforceEmulator): jsforce.Connection {
  return new jsforce.Connection({ instanceUrl: emulator.url, accessToken: emulator.issueAccessToken(), version: '62.0' });
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** A raw HTTP call with a fresh token, for shapes jsforce hides. */
export async function call(
  emulator: SalesforceEmulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const init: RequestInit = { method, headers: { Authorization: `Bearer ${emulator.issueAccessToken()}`, ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(emulator.url + path, init);
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export function invoice(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { Invoice_Number__c: `INV-${String(n).padStart(5, '0')}`, Amount__c: n + 0.5, Region__c: 'EMEA', ...extra };
}

/** Creates an ingest job, uploads the CSV, closes it, and waits until it has finished. */
export async function runBulkJob(
  emulator: SalesforceEmulator,
  job: Record<string, unknown>,
  csv: string,
): Promise<{ info: any; successful: string; failed: string; unprocessed: string }> {
  const created = await call(emulator, 'POST', `${API}/jobs/ingest`, { contentType: 'CSV', ...job });
  if (created.status !== 200) throw new Error(`job not created: ${created.text}`);
  const jobPath = `${API}/jobs/ingest/${created.json.id}`;
  await call(emulator, 'PUT', `${jobPath}/batches`, csv, { 'Content-Type': 'text/csv' });
  await call(emulator, 'PATCH', jobPath, { state: 'UploadComplete' });
  let info = (await call(emulator, 'GET', jobPath)).json;
  while (!['JobComplete', 'Failed', 'Aborted'].includes(info.state)) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    info = (await call(emulator, 'GET', jobPath)).json;
  }
  const [successful, failed, unprocessed] = await Promise.all(
    ['successfulResults', 'failedResults', 'unprocessedrecords'].map(async (file) => (await call(emulator, 'GET', `${jobPath}/${file}`)).text),
  );
  return { info, successful, failed, unprocessed };
}
