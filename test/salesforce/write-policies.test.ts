// fields[].when against the Salesforce emulator, through sObject Collections and Bulk API 2.0:
// not_null never empties a field, if_empty fills only fields Salesforce holds empty (read with one
// SOQL query per batch), and change detection keeps reruns free of writes and reads.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../emulators/salesforce/index.ts';
import { byType, runCli, summaryOf, tempDir, writeJson } from '../support/run-cli.ts';
import { byNumber, CLIENT, jsonl, salesforceConfig, startOrg, writeCalls } from './support.ts';

let sf: SalesforceEmulator;
beforeEach(async () => { sf = await startOrg({ bulkProcessingDelayMs: 5 }); });
afterEach(async () => { await sf.close(); });

const queries = () => sf.requests.filter((r) => r.path.endsWith('/query'));
const number = (n: number) => `INV-${String(n).padStart(5, '0')}`;
const MATCH = { source: 'invoice_id', destination: 'Invoice_Number__c' };
const POLICIES = [
  { source: 'customer_email', destination: 'Customer_Email__c', when: 'if_empty' },
  { source: 'amount', destination: 'Amount__c', when: 'not_null' },
  { source: 'status', destination: 'Status__c' },
  { source: 'region', destination: 'Region__c' },
];

function workspace(objectEntry: Record<string, unknown>, api = 'rest') {
  const { path } = salesforceConfig(sf, objectEntry, { api });
  const run = (rows: Record<string, unknown>[], args: string[] = []) => runCli(['write', '--config', path, ...args], { stdin: jsonl(rows) });
  return { path, run };
}

/** 95 records Salesforce holds (amount 7, status Void; the even ones with an email someone set there), for keys 0..94. */
function seedOrg() {
  return sf.seedRecords('Invoice__c', Array.from({ length: 95 }, (_, n) => ({
    Invoice_Number__c: number(n), Amount__c: 7, Status__c: 'Void', Region__c: 'EMEA', ...(n % 2 === 0 ? { Customer_Email__c: `owner${n}@crm.example` } : {}),
  })));
}

/** 100 rows, keys 0..99: every fourth one without an amount (null). */
function rows(email = (n: number) => `buyer${n}@example.com`): Record<string, unknown>[] {
  return Array.from({ length: 100 }, (_, n) => ({ invoice_id: number(n), customer_email: email(n), amount: n % 4 === 0 ? null : n + 0.25, status: 'Open', region: 'EMEA' }));
}

/** What the 100 rows leave in the seeded org: owners' emails kept, empty ones filled, amounts kept where the row had none. */
function expectFinalRecords(): void {
  const held = byNumber(sf);
  expect(held.size).toBe(100);
  expect(held.get(number(0))).toMatchObject({ Customer_Email__c: 'owner0@crm.example', Amount__c: 7, Status__c: 'Open' });
  expect(held.get(number(2))).toMatchObject({ Customer_Email__c: 'owner2@crm.example', Amount__c: 2.25 });
  expect(held.get(number(1))).toMatchObject({ Customer_Email__c: 'buyer1@example.com', Amount__c: 1.25 });
  expect(held.get(number(96))).toMatchObject({ Customer_Email__c: 'buyer96@example.com', Amount__c: null, Status__c: 'Open' });
  expect(held.get(number(97))).toMatchObject({ Customer_Email__c: 'buyer97@example.com', Amount__c: 97.25 });
}

describe('fields[].when with Salesforce', () => {
  for (const api of ['rest', 'bulk']) {
    it(`upsert (${api}): if_empty fills only empty fields, with one query for the batch of 100; not_null leaves the amount of a null row`, async () => {
      seedOrg();
      const ws = workspace({ mode: 'upsert', match: MATCH, fields: POLICIES }, api);
      const run = await ws.run(rows());
      expect(run.code, run.stderr).toBe(0);
      expect(queries()).toHaveLength(1);
      expect(writeCalls(sf)).toEqual(api === 'rest'
        ? ['PATCH /composite/sobjects/Invoice__c/Invoice_Number__c']
        : ['POST /jobs/ingest', 'PUT /jobs/ingest/{job}/batches', 'PATCH /jobs/ingest/{job}']);
      expectFinalRecords();
      expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 100, created: 5, updated: 95, unchanged: 0, skipped: 0, rejected: 0 });

      // Same rows again: the store knows them all, so Salesforce is neither read nor written.
      sf.clearRequests();
      const again = await ws.run(rows());
      expect(again.code, again.stderr).toBe(0);
      expect(queries()).toEqual([]);
      expect(writeCalls(sf)).toEqual([]);
      expect(summaryOf(again.stderr)['Invoice__c']).toMatchObject({ received: 100, unchanged: 100 });

      // New emails: read once, and every record already holds one, so nothing is written.
      sf.clearRequests();
      const changed = await ws.run(rows((n) => `new${n}@example.com`));
      expect(changed.code, changed.stderr).toBe(0);
      expect(queries()).toHaveLength(1);
      expect(writeCalls(sf)).toEqual([]);
      expect(byNumber(sf).get(number(1))!.Customer_Email__c).toBe('buyer1@example.com');
      expect(summaryOf(changed.stderr)['Invoice__c']).toMatchObject({ received: 100, unchanged: 100 });
      sf.clearRequests();
      await ws.run(rows((n) => `new${n}@example.com`));
      expect([...queries(), ...writeCalls(sf)]).toEqual([]);

      // Only an always field changed: no row carries an if_empty field, so nothing is read.
      sf.clearRequests();
      const paid = await ws.run(rows((n) => `new${n}@example.com`).map((row) => ({ ...row, status: 'Paid' })));
      expect(paid.code, paid.stderr).toBe(0);
      expect(queries()).toEqual([]);
      expect(writeCalls(sf)).toHaveLength(api === 'rest' ? 1 : 3);
      expect(summaryOf(paid.stderr)['Invoice__c']).toMatchObject({ received: 100, updated: 100 });
    });
  }

  it('bulk: a row left with nothing to send is unchanged, and the counts add up', async () => {
    seedOrg();
    const fields = [...POLICIES.slice(0, 2), { source: 'region', destination: 'Region__c', when: 'not_null' }];
    const ws = workspace({ mode: 'upsert', match: MATCH, fields }, 'bulk');
    // The required region only where a record is new.
    const run = await ws.run(rows().map((row, n) => ({ ...row, region: n >= 95 ? 'APAC' : null })));
    expect(run.code, run.stderr).toBe(0);
    // Keys 0, 4, … 92 carry only an email Salesforce holds (the amount and region are null): nothing to send.
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 100, created: 5, updated: 71, unchanged: 24, skipped: 0, rejected: 0 });
    expect(queries()).toHaveLength(1);
    expect(byNumber(sf).get(number(4))).toMatchObject({ Customer_Email__c: 'owner4@crm.example', Amount__c: 7 });
    expect(byNumber(sf).get(number(2))).toMatchObject({ Customer_Email__c: 'owner2@crm.example', Amount__c: 2.25, Region__c: 'EMEA' });
    expect(byNumber(sf).get(number(97))).toMatchObject({ Customer_Email__c: 'buyer97@example.com', Region__c: 'APAC' });
  });

  it('update by external id: the lookup reads the if_empty fields, so a batch of 100 still costs one query', async () => {
    seedOrg();
    const ws = workspace({ mode: 'update', match: MATCH, fields: POLICIES });
    const run = await ws.run(rows());
    expect(run.code, run.stderr).toBe(0);
    expect(queries()).toHaveLength(1);
    expect(writeCalls(sf)).toEqual(['PATCH /composite/sobjects']);
    expect(byNumber(sf).get(number(2))).toMatchObject({ Customer_Email__c: 'owner2@crm.example', Amount__c: 2.25, Status__c: 'Open' });
    expect(byNumber(sf).get(number(3))).toMatchObject({ Customer_Email__c: 'buyer3@example.com', Amount__c: 3.25 });
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 100, updated: 95, not_found: 5, rejected: 0 });
  });

  it('update by Id: one query by Id reads the if_empty fields', async () => {
    const seeded = seedOrg();
    const ws = workspace({ mode: 'update', match: { source: 'id', destination: 'Id' }, fields: POLICIES.slice(0, 2) });
    const run = await ws.run(seeded.slice(0, 4).map((record, n) => ({ id: record.Id, customer_email: `buyer${n}@example.com`, amount: 50 })));
    expect(run.code, run.stderr).toBe(0);
    expect(queries()).toHaveLength(1);
    expect(byNumber(sf).get(number(0))).toMatchObject({ Customer_Email__c: 'owner0@crm.example', Amount__c: 50 });
    expect(byNumber(sf).get(number(1))).toMatchObject({ Customer_Email__c: 'buyer1@example.com', Amount__c: 50 });
  });

  it('not_null: a null never empties the field, and only a real change is sent again', async () => {
    const ws = workspace({ mode: 'upsert', match: MATCH, fields: POLICIES.slice(1) });
    const row = (amount: unknown, status = 'Open') => [{ invoice_id: number(1), amount, status, region: 'EMEA' }];
    await ws.run(row(12));
    sf.clearRequests();
    const nulled = await ws.run(row(null, 'Void'));
    expect(nulled.code, nulled.stderr).toBe(0);
    const [upsert] = sf.requests.filter((r) => r.method === 'PATCH');
    expect(upsert.body.records[0]).toEqual({ attributes: { type: 'Invoice__c' }, Invoice_Number__c: number(1), Status__c: 'Void' });
    expect(byNumber(sf).get(number(1))).toMatchObject({ Amount__c: 12, Status__c: 'Void' });
    sf.clearRequests();
    await ws.run([{ invoice_id: number(1), status: 'Void', region: 'EMEA' }]);
    await ws.run(row('', 'Void'));
    await ws.run(row(12, 'Void'));
    expect(writeCalls(sf)).toEqual([]);
    const changed = await ws.run(row(13, 'Void'));
    expect(summaryOf(changed.stderr)['Invoice__c']).toMatchObject({ updated: 1 });
    expect(byNumber(sf).get(number(1))!.Amount__c).toBe(13);
  });

  it('on_removal clear empties only the fields whose policy allows it', async () => {
    const ws = workspace({ mode: 'upsert', match: MATCH, fields: POLICIES, on_removal: 'clear' });
    await ws.run(rows().slice(0, 4));
    const run = await ws.run(rows().slice(0, 3), ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ left_segment: 1, cleared: 1 });
    expect(byNumber(sf).get(number(3))).toMatchObject({ Customer_Email__c: 'buyer3@example.com', Amount__c: 3.25, Status__c: null, Region__c: 'EMEA' });
  });

  it('change_detection "crm": a field Salesforce fills counts as unchanged, so the rerun reads once and writes nothing', async () => {
    seedOrg();
    const dir = tempDir();
    const config = {
      crm: { type: 'salesforce', login_url: sf.url, auth: { type: 'client_credentials', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret }, api: 'rest' },
      objects: [{ object: 'Invoice__c', mode: 'upsert', match: MATCH, fields: POLICIES }],
      change_detection: 'crm',
    };
    const path = writeJson(dir, 'config.json', config);
    const run = () => runCli(['write', '--config', path], { stdin: jsonl(rows()), env: { TMPDIR: dir } });
    expect((await run()).code).toBe(0);
    expectFinalRecords();
    sf.clearRequests();
    const again = await run();
    expect(again.code, again.stderr).toBe(0);
    expect(writeCalls(sf)).toEqual([]);
    expect(queries()).toHaveLength(1);
    expect(summaryOf(again.stderr)['Invoice__c']).toMatchObject({ received: 100, unchanged: 100 });
  });

  it('check refuses when on the match key field, in any spelling', async () => {
    const { path } = workspace({ mode: 'upsert', match: MATCH, fields: [{ source: 'invoice_id', destination: 'invoice_number__c', when: 'not_null' }] });
    const run = await runCli(['check', '--config', path]);
    const status = byType(run.messages, 'CONNECTION_STATUS')[0].connectionStatus;
    expect(status.status).toBe('FAILED');
    expect(status.message).toContain('objects[0].fields[0].when "not_null" cannot apply to "invoice_number__c", the match.destination field');
  });
});
