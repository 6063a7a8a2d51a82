// Change detection and segment membership against the Salesforce emulator: what reaches
// Salesforce on later runs, with the store (the default) and with change_detection "crm".
import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../emulators/salesforce/index.ts';
import { byType, runCli, summaryOf, tempDir, writeJson } from '../support/run-cli.ts';
import { BY_NUMBER, byNumber, CLIENT, invoiceObject, invoiceRows, jsonl, salesforceConfig, startOrg, writeCalls } from './support.ts';

let sf: SalesforceEmulator;
beforeEach(async () => {
  // The example object, plus a unique reference Salesforce itself refuses to repeat.
  sf = await startOrg({ objects: [{ ...invoiceObject, fields: [...invoiceObject.fields, { name: 'Reference__c', label: 'Reference', type: 'string', length: 40, unique: true }] }] });
});
afterEach(async () => { await sf.close(); });

const UPSERT = { mode: 'upsert', ...BY_NUMBER };
const UPSERT_CALL = 'PATCH /composite/sobjects/Invoice__c/Invoice_Number__c';
const upserts = () => sf.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/Invoice_Number__c'));
const lookups = () => sf.requests.filter((r) => r.path.endsWith('/query'));

function workspace(objectEntry: Record<string, unknown> = UPSERT) {
  const { path } = salesforceConfig(sf, objectEntry, { api: 'rest' });
  const run = (rows: Record<string, unknown>[], args: string[] = []) => runCli(['write', '--config', path, ...args], { stdin: jsonl(rows) });
  return { run };
}

/** Changes one record in Salesforce, as a user of the org would. */
async function editInSalesforce(id: string, values: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${sf.url}/services/data/v62.0/composite/sobjects`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${sf.issueAccessToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ allOrNone: true, records: [{ attributes: { type: 'Invoice__c' }, Id: id, ...values }] }),
  });
  expect(response.status).toBe(200);
}

describe('Salesforce change detection with the store', () => {
  it('a second identical run makes no write call at all', async () => {
    const ws = workspace();
    expect((await ws.run(invoiceRows(1000))).code).toBe(0);
    expect(writeCalls(sf)).toHaveLength(5);
    sf.clearRequests();
    const again = await ws.run(invoiceRows(1000));
    expect(again.code, again.stderr).toBe(0);
    expect(writeCalls(sf)).toEqual([]);
    expect(summaryOf(again.stderr)['Invoice__c']).toMatchObject({ received: 1000, unchanged: 1000, created: 0, updated: 0 });
  });

  it('sends exactly the 37 changed rows in one call, each with only its changed fields', async () => {
    const ws = workspace();
    expect((await ws.run(invoiceRows(1000))).code).toBe(0);
    sf.clearRequests();
    const changed = invoiceRows(1000).map((row, i) => (i % 27 === 5 ? { ...row, amount: 5000 + i } : row));
    const run = await ws.run(changed);
    expect(run.code, run.stderr).toBe(0);
    expect(writeCalls(sf)).toEqual([UPSERT_CALL]);
    const [upsert] = upserts();
    expect(upsert.body.records).toHaveLength(37);
    for (const record of upsert.body.records) {
      expect(Object.keys(record).sort()).toEqual(['Amount__c', 'Invoice_Number__c', 'attributes']);
    }
    expect(byNumber(sf).get('INV-00005')!.Amount__c).toBe(5005);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 1000, updated: 37, unchanged: 963 });
  });

  it('sends a row Salesforce rejected last run again, and only that row', async () => {
    sf.seedRecords('Invoice__c', [{ Invoice_Number__c: 'OTHER-1', Reference__c: 'TAKEN', Region__c: 'EMEA' }]);
    const ws = workspace({ mode: 'insert', ...BY_NUMBER, fields: [...BY_NUMBER.fields, { source: 'reference', destination: 'Reference__c' }] });
    const rows = invoiceRows(4).map((row, i) => ({ ...row, reference: `REF-${i}` }));
    const broken = rows.map((row, i) => (i === 2 ? { ...row, reference: 'TAKEN' } : row));
    const first = await ws.run(broken);
    expect(summaryOf(first.stderr)['Invoice__c']).toMatchObject({ created: 3, rejected: 1 });
    expect(first.stderr).toContain('DUPLICATE_VALUE');
    sf.clearRequests();
    const again = await ws.run(broken);
    expect(writeCalls(sf)).toEqual(['POST /composite/sobjects']);
    expect(sf.requests.find((r) => r.method === 'POST' && r.path.endsWith('/composite/sobjects'))!.body.records.map((r: { Invoice_Number__c: string }) => r.Invoice_Number__c)).toEqual(['INV-00002']);
    expect(summaryOf(again.stderr)['Invoice__c']).toMatchObject({ unchanged: 3, rejected: 1 });
    sf.clearRequests();
    const fixed = await ws.run(rows);
    expect(writeCalls(sf)).toEqual(['POST /composite/sobjects']);
    expect(summaryOf(fixed.stderr)['Invoice__c']).toMatchObject({ created: 1, unchanged: 3, rejected: 0 });
    expect(sf.records('Invoice__c')).toHaveLength(5);
  });

  it('a dry run changes neither Salesforce nor the store', async () => {
    const ws = workspace();
    await ws.run(invoiceRows(10));
    sf.clearRequests();
    const changed = invoiceRows(12);
    changed[3].amount = 99;
    const dry = await ws.run(changed, ['--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(summaryOf(dry.stderr)['Invoice__c']).toMatchObject({ created: 2, updated: 1, unchanged: 9 });
    expect(writeCalls(sf)).toEqual([]);
    expect(sf.records('Invoice__c')).toHaveLength(10);
    const real = await ws.run(changed);
    expect(summaryOf(real.stderr)['Invoice__c']).toMatchObject({ created: 2, updated: 1, unchanged: 9 });
    expect(byNumber(sf).get('INV-00003')!.Amount__c).toBe(99);
  });
});

describe('Salesforce rows that left the segment', () => {
  async function afterFirstRun(onRemoval: string) {
    const ws = workspace({ ...UPSERT, on_removal: onRemoval });
    expect((await ws.run(invoiceRows(6))).code).toBe(0);
    sf.clearRequests();
    return ws;
  }

  it('are never inferred from an incremental run', async () => {
    const ws = await afterFirstRun('archive');
    const run = await ws.run(invoiceRows(4));
    expect(summaryOf(run.stderr)['Invoice__c'].left_segment).toBe(0);
    expect(sf.records('Invoice__c')).toHaveLength(6);
    expect(writeCalls(sf)).toEqual([]);
  });

  it('ignore: counted and reported once, left as they are', async () => {
    const ws = await afterFirstRun('ignore');
    const run = await ws.run(invoiceRows(4), ['--complete']);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ left_segment: 2, unchanged: 4 });
    expect(sf.records('Invoice__c')).toHaveLength(6);
    expect(writeCalls(sf)).toEqual([]);
  });

  it('clear: empties the mapped fields of the records that left, by record id, keeping the key and required fields', async () => {
    const ws = await afterFirstRun('clear');
    const ids = [4, 5].map((n) => byNumber(sf).get(`INV-0000${n}`)!.Id);
    const run = await ws.run(invoiceRows(4), ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run.stderr)['Invoice__c'].left_segment).toBe(2);
    expect(writeCalls(sf)).toEqual(['PATCH /composite/sobjects']);
    const [update] = sf.requests.filter((r) => r.method === 'PATCH');
    expect(update.body.records.map((r: { Id: string }) => r.Id).sort()).toEqual([...ids].sort());
    expect(byNumber(sf).get('INV-00005')).toMatchObject({ Invoice_Number__c: 'INV-00005', Amount__c: null, Status__c: null, Customer_Email__c: null, Region__c: 'APAC' });
    expect(byNumber(sf).get('INV-00003')).toMatchObject({ Amount__c: 3.25, Status__c: 'Open' });
  });

  it('archive: deletes the records that left; a returning key is created again', async () => {
    const ws = await afterFirstRun('archive');
    const run = await ws.run(invoiceRows(4), ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect([...byNumber(sf).keys()].sort()).toEqual(['INV-00000', 'INV-00001', 'INV-00002', 'INV-00003']);
    expect(writeCalls(sf)).toEqual(['DELETE /composite/sobjects']);
    const back = await ws.run(invoiceRows(6), ['--complete']);
    expect(summaryOf(back.stderr)['Invoice__c']).toMatchObject({ created: 2, unchanged: 4, left_segment: 0 });
    expect(sf.records('Invoice__c')).toHaveLength(6);
  });
});

describe('Salesforce change_detection "crm"', () => {
  // As in a container that keeps nothing between runs: no state path at all.
  function ephemeral(objectEntry: Record<string, unknown> = UPSERT) {
    const dir = tempDir();
    const config = {
      crm: { type: 'salesforce', login_url: sf.url, auth: { type: 'client_credentials', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret }, api: 'rest' },
      objects: [{ object: 'Invoice__c', ...objectEntry }],
      change_detection: 'crm',
    };
    const path = writeJson(dir, 'config.json', config);
    const run = (rows: Record<string, unknown>[]) => runCli(['write', '--config', path], { stdin: jsonl(rows), env: { TMPDIR: dir } });
    return { dir, path, run };
  }

  it('check accepts it for Salesforce objects', async () => {
    const { path } = ephemeral();
    const run = await runCli(['check', '--config', path]);
    expect(byType(run.messages, 'CONNECTION_STATUS')[0].connectionStatus).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('reads each batch back and sends nothing when Salesforce already holds the values, in its own terms', async () => {
    const ws = ephemeral();
    expect((await ws.run(invoiceRows(250))).code).toBe(0);
    expect(writeCalls(sf)).toEqual([UPSERT_CALL, UPSERT_CALL]);
    sf.clearRequests();
    // The same values written differently: a picklist by label, multi-select in another order,
    // the timestamp with its zone, amounts as text.
    const again = await ws.run(invoiceRows(250).map((row) => ({
      ...row,
      status: String(row.status).toUpperCase(),
      tags: [...(row.tags as string[])].reverse(),
      issued_at: '2026-02-01T09:30:00+01:00',
      amount: String(row.amount),
    })));
    expect(again.code, again.stderr).toBe(0);
    expect(writeCalls(sf)).toEqual([]);
    expect(lookups()).toHaveLength(2);
    expect(summaryOf(again.stderr)['Invoice__c']).toMatchObject({ received: 250, unchanged: 250 });
    // Nothing is left behind: the run's scratch store went with it.
    expect(readdirSync(ws.dir)).toEqual(['config.json']);
  });

  it('sends only the fields that differ in Salesforce, including edits made there', async () => {
    const ws = ephemeral();
    await ws.run(invoiceRows(20));
    await editInSalesforce(String(byNumber(sf).get('INV-00007')!.Id), { Customer_Email__c: 'changed-in-salesforce@example.com', Tags__c: 'Disputed' });
    sf.clearRequests();
    const rows = invoiceRows(20);
    rows[3].amount = 1234;
    const run = await ws.run(rows);
    expect(run.code, run.stderr).toBe(0);
    expect(writeCalls(sf)).toEqual([UPSERT_CALL]);
    const [upsert] = upserts();
    expect(upsert.body.records).toEqual([
      { attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'INV-00003', Amount__c: 1234 },
      { attributes: { type: 'Invoice__c' }, Invoice_Number__c: 'INV-00007', Customer_Email__c: 'buyer7@example.com', Tags__c: 'Priority;Recurring' },
    ]);
    expect(byNumber(sf).get('INV-00007')).toMatchObject({ Customer_Email__c: 'buyer7@example.com', Tags__c: 'Priority;Recurring' });
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ updated: 2, unchanged: 18 });
  });

  it('update by Id reads the records by Id: unchanged rows cost no write, unknown ids are not_found', async () => {
    const seeded = sf.seedRecords('Invoice__c', [1, 2, 3].map((n) => ({ Invoice_Number__c: `S-${n}`, Amount__c: n, Region__c: 'EMEA' })));
    const ws = ephemeral({ mode: 'update', match: { source: 'id', destination: 'Id' }, fields: [{ source: 'amount', destination: 'Amount__c' }] });
    // Ids as 15 characters for one row: Salesforce takes either form.
    const rows = seeded.map((record, i) => ({ id: i === 0 ? String(record.Id).slice(0, 15) : record.Id, amount: i === 2 ? 30 : i + 1 }));
    const unknownId = `${String(seeded[0].Id).slice(0, 3)}000000000ZZZ`;
    const run = await ws.run([...rows, { id: unknownId, amount: 5 }]);
    expect(run.code, run.stderr).toBe(0);
    expect(writeCalls(sf)).toEqual(['PATCH /composite/sobjects']);
    const [update] = sf.requests.filter((r) => r.method === 'PATCH');
    expect(update.body.records).toEqual([
      { attributes: { type: 'Invoice__c' }, Id: seeded[2].Id, Amount__c: 30 },
      { attributes: { type: 'Invoice__c' }, Id: unknownId, Amount__c: 5 },
    ]);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 4, updated: 1, unchanged: 2, not_found: 1 });
  });
});
