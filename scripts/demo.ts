// The README's first command ends here: start the HubSpot emulator with the example invoices
// object, sync examples/hubspot/invoices.jsonl into it with the real CLI, run it again to show
// that unchanged rows cost nothing, then do the same into the Salesforce emulator's Invoice__c,
// each invoice linked to its Account through the account's external id (fields[].lookup).
// No CRM account needed. With CRM_ACTIVATE_STATE_URL (postgres://…) the stores are schemas in
// that PostgreSQL database instead of files, as ephemeral containers would share them; they are
// dropped at the end.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startHubSpotEmulator } from '../emulators/hubspot/index.js';
import { startSalesforceEmulator } from '../emulators/salesforce/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const example = (path: string) => join(root, 'examples', path);
const work = mkdtempSync(join(tmpdir(), 'crm-activate-demo-'));
const stateUrl = process.env.CRM_ACTIVATE_STATE_URL;
const schemas: string[] = [];

/** Where a CRM's store goes: a file in the work folder, or a schema of its own for this demo. */
function stateFor(name: string): Record<string, string> {
  if (!stateUrl) return { path: join(work, `${name}-state.db`) };
  const url = new URL(stateUrl);
  const schema = `crm_activate_demo_${process.pid}_${name}`;
  url.searchParams.set('schema', schema);
  schemas.push(schema);
  return { url: url.toString() };
}

async function dropSchemas(): Promise<void> {
  if (!stateUrl || schemas.length === 0) return;
  const url = new URL(stateUrl);
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

interface Crm {
  url: string;
  requests: { method: string; path: string }[];
}

/** The example config pointed at a local emulator, its store in a temporary folder. */
function localConfig(examplePath: string, name: string, point: (config: any) => void): string {
  const config = JSON.parse(readFileSync(example(examplePath), 'utf8'));
  point(config);
  config.state = stateFor(name);
  const path = join(work, `${name}-config.json`);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/** Runs the real CLI beside the in-process emulator (asynchronously: a blocking spawn would starve it). */
async function sync(title: string, crm: Crm, configPath: string, rowsPath: string, isWrite: (path: string, method: string) => boolean): Promise<number> {
  console.log(`\n=== ${title}`);
  const before = crm.requests.length;
  const child = spawn(process.execPath, [join(root, 'dist/src/main.js'), 'write', '--config', configPath], { stdio: ['pipe', 'inherit', 'inherit'] });
  child.stdin.end(readFileSync(rowsPath));
  const status = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const calls = crm.requests.slice(before).filter((r) => isWrite(r.path, r.method)).length;
  console.log(`(exit ${status}; ${calls} write call(s))`);
  return status;
}

async function hubspot(): Promise<number[]> {
  const token = 'pat-na1-00000000-demo-token';
  const emulator = await startHubSpotEmulator({ accessTokens: [token], schemas: [JSON.parse(readFileSync(example('hubspot/invoices-schema.json'), 'utf8'))] });
  try {
    const config = localConfig('hubspot/config.json', 'hubspot', (c) => (c.crm.base_url = emulator.url));
    const contacts = readFileSync(example('hubspot/contacts.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
    emulator.seedRecords('contacts', contacts);
    const rows = example('hubspot/invoices.jsonl');
    const isWrite = (path: string) => /\/batch\/(create|update|upsert|archive|associate\/default)$/.test(path);
    console.log(`HubSpot emulator on ${emulator.url} with the custom object "invoices" and ${contacts.length} contacts; syncing ${rows}`);
    const first = await sync('HubSpot, first run: every row is new', emulator, config, rows, isWrite);
    const second = await sync('HubSpot, second run: same rows, nothing changed', emulator, config, rows, isWrite);
    const records = emulator.records('invoices');
    console.log(`\n=== ${records.length} invoices in the HubSpot emulator, for example:`);
    for (const record of records.slice(0, 3)) {
      const { invoice_number, amount, status, tags, due_date, issued_at, is_overdue } = record.properties;
      const contact = emulator.associations('invoices', record.id, 'contacts').map((link) => emulator.records('contacts').find((c) => c.id === link.toObjectId)?.properties.email);
      console.log(`  ${JSON.stringify({ invoice_number, amount, status, tags, due_date, issued_at, is_overdue, linked_contacts: contact })}`);
    }
    return [first, second];
  } finally {
    await emulator.close();
  }
}

/**
 * The demo org: Invoice__c with an Account__c lookup, and Account with an external id
 * Account_Number__c holding the keys the example rows carry in `account_number`.
 */
const DEMO_ACCOUNTS = [
  { Name: 'Acme Corporation', Account_Number__c: 'ACME-001' },
  { Name: 'Globex', Account_Number__c: 'GLOBEX-002' },
  { Name: 'Initech', Account_Number__c: 'INITECH-003' },
];
const ACCOUNT_NUMBER = { name: 'Account_Number__c', label: 'Account Number', type: 'string', length: 20, externalId: true, unique: true } as const;
const ACCOUNT_LOOKUP = { name: 'Account__c', label: 'Account', type: 'reference', referenceTo: ['Account'] } as const;
const BY_ACCOUNT_NUMBER = { source: 'account_number', destination: 'Account__c', lookup: { object: 'Account', match: 'Account_Number__c' } };

async function salesforce(): Promise<number[]> {
  const client = { clientId: 'demo-client-id', clientSecret: 'demo-client-secret-0000' };
  const invoice = JSON.parse(readFileSync(example('salesforce/invoice-object.json'), 'utf8'));
  invoice.fields.push(ACCOUNT_LOOKUP);
  const emulator = await startSalesforceEmulator({ clients: [client], objects: [invoice, { name: 'Account', fields: [ACCOUNT_NUMBER] }] });
  try {
    const accountNames = new Map(emulator.seedRecords('Account', DEMO_ACCOUNTS).map((a) => [a.Id as string, a.Name as string]));
    const config = localConfig('salesforce/config.json', 'salesforce', (c) => {
      c.crm.login_url = emulator.url;
      c.objects[0].fields.push(BY_ACCOUNT_NUMBER);
    });
    const rows = example('salesforce/invoices.jsonl');
    const isWrite = (path: string, method: string) => /\/composite\/sobjects|\/jobs\/ingest/.test(path) && method !== 'GET';
    console.log(`\nSalesforce emulator on ${emulator.url} with the custom object Invoice__c and ${DEMO_ACCOUNTS.length} Accounts; syncing ${rows}, each invoice linked to its Account by Account_Number__c`);
    const first = await sync('Salesforce, first run: every row is new', emulator, config, rows, isWrite);
    const second = await sync('Salesforce, second run: same rows, nothing changed', emulator, config, rows, isWrite);
    const records = emulator.records('Invoice__c');
    console.log(`\n=== ${records.length} Invoice__c records in the Salesforce emulator, for example:`);
    for (const record of records.slice(0, 3)) {
      const { Invoice_Number__c, Amount__c, Status__c, Tags__c, Due_Date__c, Issued_At__c, Account__c } = record as Record<string, unknown>;
      const account = `${Account__c} (${accountNames.get(String(Account__c))})`;
      console.log(`  ${JSON.stringify({ Invoice_Number__c, Amount__c, Status__c, Tags__c, Due_Date__c, Issued_At__c, Account__c: account })}`);
    }
    return [first, second];
  } finally {
    await emulator.close();
  }
}

const statuses = await Promise.resolve()
  .then(async () => [...(await hubspot()), ...(await salesforce())])
  .finally(dropSchemas);
process.exitCode = statuses.every((status) => status === 0) ? 0 : 1;
