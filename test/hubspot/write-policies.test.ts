// fields[].when against the HubSpot emulator: not_null never empties a property, if_empty fills
// only properties HubSpot holds empty (read with one batch/read per batch), and change detection
// keeps reruns free of writes and reads.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { byType, runCli, summaryOf, tempDir, writeJson } from '../support/run-cli.ts';
import { hubspotConfig, jsonl, startEmulator, TOKEN, UPSERT_BY_NUMBER, writeCalls } from './support.ts';

let emulator: HubSpotEmulator;
beforeEach(async () => { emulator = await startEmulator(); });
afterEach(async () => { await emulator.close(); });

const byNumber = () => new Map(emulator.records('invoices').map((r) => [r.properties.invoice_number, r.properties]));
const reads = () => emulator.requests.filter((r) => r.path.endsWith('/batch/read'));
const number = (n: number) => `INV-${String(n).padStart(5, '0')}`;

function workspace(objectEntry: Record<string, unknown>) {
  const { path } = hubspotConfig(emulator, objectEntry);
  const run = (rows: Record<string, unknown>[], args: string[] = []) => runCli(['write', '--config', path, ...args], { stdin: jsonl(rows) });
  return { path, run };
}

const POLICIES = [
  { source: 'customer_email', destination: 'customer_email', when: 'if_empty' },
  { source: 'amount', destination: 'amount', when: 'not_null' },
  { source: 'status', destination: 'status' },
];

/** 95 records HubSpot holds (amount 7, status void; the even ones with an email someone set there), for keys 0..94. */
function seedCrm(): void {
  emulator.seedRecords('invoices', Array.from({ length: 95 }, (_, n) => ({
    invoice_number: number(n), amount: '7', status: 'void', ...(n % 2 === 0 ? { customer_email: `owner${n}@crm.example` } : {}),
  })));
}

/** 100 rows, keys 0..99: every fourth one without an amount (null). */
function rows(email = (n: number) => `buyer${n}@example.com`): Record<string, unknown>[] {
  return Array.from({ length: 100 }, (_, n) => ({ invoice_id: number(n), customer_email: email(n), amount: n % 4 === 0 ? null : n + 0.5, status: 'open' }));
}

describe('fields[].when with HubSpot', () => {
  it('upsert: if_empty fills only empty properties, with one batch/read for the batch of 100; not_null leaves the amount of a null row', async () => {
    seedCrm();
    const ws = workspace({ ...UPSERT_BY_NUMBER, fields: POLICIES });
    const run = await ws.run(rows());
    expect(run.code, run.stderr).toBe(0);
    expect(reads()).toHaveLength(1);
    expect(reads()[0].body.inputs).toHaveLength(100);
    expect(writeCalls(emulator)).toEqual(['upsert']);
    const held = byNumber();
    expect(held.size).toBe(100);
    expect(held.get(number(0))).toMatchObject({ customer_email: 'owner0@crm.example', amount: '7', status: 'open' });
    expect(held.get(number(2))).toMatchObject({ customer_email: 'owner2@crm.example', amount: '2.5' });
    expect(held.get(number(1))).toMatchObject({ customer_email: 'buyer1@example.com', amount: '1.5' });
    expect(held.get(number(96))).toMatchObject({ customer_email: 'buyer96@example.com', status: 'open' });
    expect(held.get(number(96))!.amount ?? '').toBe('');
    expect(held.get(number(97))).toMatchObject({ customer_email: 'buyer97@example.com', amount: '97.5' });
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 100, created: 5, updated: 95, unchanged: 0, skipped: 0, rejected: 0 });

    // Same rows again: the store knows them all, so HubSpot is neither read nor written.
    emulator.clearRequests();
    const again = await ws.run(rows());
    expect(again.code, again.stderr).toBe(0);
    expect(emulator.requests.filter((r) => r.path.includes('/batch/'))).toEqual([]);
    expect(summaryOf(again.stderr)['invoices']).toMatchObject({ received: 100, unchanged: 100 });

    // New emails: read once, and every record already holds one, so nothing is written.
    emulator.clearRequests();
    const changed = await ws.run(rows((n) => `new${n}@example.com`));
    expect(changed.code, changed.stderr).toBe(0);
    expect(reads()).toHaveLength(1);
    expect(writeCalls(emulator)).toEqual([]);
    expect(byNumber().get(number(1))!.customer_email).toBe('buyer1@example.com');
    expect(summaryOf(changed.stderr)['invoices']).toMatchObject({ received: 100, unchanged: 100, updated: 0 });
    // ... and their hashes were kept: the same emails once more cost nothing.
    emulator.clearRequests();
    await ws.run(rows((n) => `new${n}@example.com`));
    expect(emulator.requests.filter((r) => r.path.includes('/batch/'))).toEqual([]);

    // Only an always field changed: no row carries an if_empty field, so nothing is read.
    emulator.clearRequests();
    const paid = await ws.run(rows((n) => `new${n}@example.com`).map((row) => ({ ...row, status: 'Paid in full' })));
    expect(paid.code, paid.stderr).toBe(0);
    expect(reads()).toEqual([]);
    expect(writeCalls(emulator)).toEqual(['upsert']);
    expect(summaryOf(paid.stderr)['invoices']).toMatchObject({ received: 100, updated: 100 });
  });

  it('a row left with nothing to send is unchanged, and the counts add up', async () => {
    seedCrm();
    const ws = workspace({ ...UPSERT_BY_NUMBER, fields: POLICIES.slice(0, 2) });
    const run = await ws.run(rows());
    expect(run.code, run.stderr).toBe(0);
    // Keys 0, 4, … 92 carry only an email HubSpot fills (the amount is null): nothing to send.
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 100, created: 5, updated: 71, unchanged: 24, skipped: 0, rejected: 0 });
    const [upsert] = emulator.requests.filter((r) => r.path.endsWith('/batch/upsert'));
    expect(upsert.body.inputs).toHaveLength(76);
    expect(upsert.body.inputs.find((i: { id: string }) => i.id === number(2)).properties).toEqual({ amount: '2.5' });
    expect(byNumber().get(number(4))).toMatchObject({ customer_email: 'owner4@crm.example', amount: '7' });
  });

  it('update: the lookup reads the if_empty properties, so a batch of 100 still costs one read', async () => {
    seedCrm();
    const ws = workspace({ mode: 'update', match: { source: 'invoice_id', destination: 'invoice_number' }, fields: POLICIES });
    const run = await ws.run(rows());
    expect(run.code, run.stderr).toBe(0);
    expect(reads()).toHaveLength(1);
    expect(writeCalls(emulator)).toEqual(['update']);
    expect(byNumber().get(number(2))).toMatchObject({ customer_email: 'owner2@crm.example', amount: '2.5', status: 'open' });
    expect(byNumber().get(number(3))).toMatchObject({ customer_email: 'buyer3@example.com', amount: '3.5' });
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ received: 100, updated: 95, not_found: 5, rejected: 0 });
  });

  it('not_null: a null never empties the property, and only a real change is sent again', async () => {
    const ws = workspace({ ...UPSERT_BY_NUMBER, fields: POLICIES.slice(1) });
    const row = (amount: unknown, status = 'open') => [{ invoice_id: number(1), amount, status }];
    await ws.run(row(12));
    emulator.clearRequests();
    const nulled = await ws.run(row(null, 'VOID'));
    expect(nulled.code, nulled.stderr).toBe(0);
    const [upsert] = emulator.requests.filter((r) => r.path.endsWith('/batch/upsert'));
    expect(upsert.body.inputs[0].properties).toEqual({ status: 'void' });
    expect(byNumber().get(number(1))).toMatchObject({ amount: '12', status: 'void' });
    emulator.clearRequests();
    await ws.run([{ invoice_id: number(1), status: 'VOID' }]);
    await ws.run(row('', 'VOID'));
    await ws.run(row(12, 'VOID'));
    expect(writeCalls(emulator)).toEqual([]);
    const changed = await ws.run(row(13, 'VOID'));
    expect(summaryOf(changed.stderr)['invoices']).toMatchObject({ updated: 1 });
    expect(byNumber().get(number(1))!.amount).toBe('13');
  });

  it('on_removal clear empties only the fields whose policy allows it', async () => {
    const ws = workspace({ ...UPSERT_BY_NUMBER, fields: POLICIES, on_removal: 'clear' });
    await ws.run(rows().slice(0, 4));
    const run = await ws.run(rows().slice(0, 3), ['--complete']);
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run.stderr)['invoices']).toMatchObject({ left_segment: 1, cleared: 1 });
    expect(byNumber().get(number(3))).toMatchObject({ customer_email: 'buyer3@example.com', amount: '3.5', status: '' });
  });

  it('change_detection "crm": a property HubSpot fills counts as unchanged, so the rerun reads once and writes nothing', async () => {
    seedCrm();
    const dir = tempDir();
    const config = { crm: { type: 'hubspot', access_token: TOKEN, base_url: emulator.url }, objects: [{ object: 'invoices', ...UPSERT_BY_NUMBER, fields: POLICIES }], change_detection: 'crm' };
    const path = writeJson(dir, 'config.json', config);
    const run = () => runCli(['write', '--config', path], { stdin: jsonl(rows()), env: { TMPDIR: dir } });
    expect((await run()).code).toBe(0);
    expect(byNumber().get(number(0))).toMatchObject({ customer_email: 'owner0@crm.example', amount: '7' });
    emulator.clearRequests();
    const again = await run();
    expect(again.code, again.stderr).toBe(0);
    expect(writeCalls(emulator)).toEqual([]);
    expect(reads()).toHaveLength(1);
    expect(summaryOf(again.stderr)['invoices']).toMatchObject({ received: 100, unchanged: 100 });
  });

  it('check refuses when on the match key field', async () => {
    const { path } = workspace({ ...UPSERT_BY_NUMBER, fields: [{ source: 'invoice_id', destination: 'invoice_number', when: 'if_empty' }] });
    const run = await runCli(['check', '--config', path]);
    const status = byType(run.messages, 'CONNECTION_STATUS')[0].connectionStatus;
    expect(status.status).toBe('FAILED');
    expect(status.message).toContain('objects[0].fields[0].when "if_empty" cannot apply to "invoice_number", the match.destination field');
  });
});
