// Insert by a unique key when the key appears in HubSpot between the connector's lookup and its
// create: another writer, or a killed run's creates landing late. The batch is refused whole
// (409); the connector reads it back once and resends the rest, instead of bisecting it call by
// call, and the keys that exist are skipped, never modified.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { runCli, summaryOf } from '../support/run-cli.ts';
import { hubspotConfig, invoiceRows, jsonl, startEmulator, writeCalls } from './support.ts';

let emulator: HubSpotEmulator;
beforeEach(async () => { emulator = await startEmulator(); });
afterEach(async () => { await emulator.close(); });

const INSERT_BY_NUMBER = { mode: 'insert', match: { source: 'invoice_id', destination: 'invoice_number' } };
const readCalls = () => emulator.requests.filter((r) => r.path.endsWith('/batch/read')).length;

describe('HubSpot insert by a unique key', () => {
  it('skips keys created between its lookup and its create, with one read-back and one resend', async () => {
    const { path } = hubspotConfig(emulator, INSERT_BY_NUMBER);
    const raced = ['INV-00005', 'INV-00010', 'INV-00050'];
    emulator.injectFaults([{
      kind: 'meanwhile', match: { pathIncludes: '/batch/create' }, times: 1,
      happen: () => emulator.seedRecords('invoices', raced.map((invoice_number) => ({ invoice_number, amount: '7' }))),
    }]);
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(250)) });
    expect(run.code, run.stderr).toBe(0);
    const records = emulator.records('invoices');
    expect(records).toHaveLength(250);
    expect(new Set(records.map((r) => r.properties.invoice_number)).size).toBe(250);
    for (const key of raced) expect(records.find((r) => r.properties.invoice_number === key)!.properties.amount).toBe('7');
    expect(summaryOf(run.stderr).invoices).toMatchObject({ received: 250, created: 247, skipped: 3, rejected: 0 });
    // Three batches, the refused one sent again once; one lookup per batch and one read-back.
    expect(writeCalls(emulator)).toEqual(['create', 'create', 'create', 'create']);
    expect(readCalls()).toBe(4);
  });

  it('resends creates whose connection was cut, reading them back first, as many times as any request is tried', async () => {
    const { path } = hubspotConfig(emulator, INSERT_BY_NUMBER);
    // Three sends cut before HubSpot applies them (HubSpot used to give up after three): the rule Salesforce has (six sends) gets the batch through.
    emulator.injectFaults([{ kind: 'reset-before', match: { pathIncludes: '/batch/create' }, times: 3 }]);
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(20)) });
    expect(run.code, run.stderr).toBe(0);
    const records = emulator.records('invoices');
    expect(records).toHaveLength(20);
    expect(new Set(records.map((r) => r.properties.invoice_number)).size).toBe(20);
    expect(summaryOf(run.stderr).invoices).toMatchObject({ received: 20, created: 20, rejected: 0 });
  });
});
