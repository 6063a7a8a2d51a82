// Integer keys and numbers beyond what a double holds keep the digits of the input, whatever the
// protocol, through the change-detection store and into the CRM.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { runCli } from '../support/run-cli.ts';
import { mergeConfig, onlyObjectCounts } from './support.ts';
import { hubspotConfig, startEmulator, UPSERT_BY_NUMBER } from '../hubspot/support.ts';
import { BY_NUMBER, byNumber, salesforceConfig, startOrg } from '../salesforce/support.ts';

let emulator: HubSpotEmulator;
beforeEach(async () => { emulator = await startEmulator(); });
afterEach(async () => { await emulator.close(); });

/** Two keys one apart beyond 2^53 (one double), amounts a double would round. */
const ROWS = [
  '{"invoice_id":1290000000000000001,"amount":9007199254740993,"customer_email":"a@example.com"}',
  '{"invoice_id":1290000000000000002,"amount":0.12345678901234567891,"customer_email":"b@example.com"}',
  '{"invoice_id":1290000000000000003,"amount":1.2345678901234567891e5,"customer_email":"c@example.com"}',
];
const EXACT_AMOUNTS = {
  '1290000000000000001': '9007199254740993',
  '1290000000000000002': '0.12345678901234567891',
  '1290000000000000003': '123456.78901234567891',
};

const PROTOCOLS: Record<string, (row: string) => string> = {
  airbyte: (row) => `{"type":"RECORD","record":{"stream":"invoices","emitted_at":0,"data":${row}}}`,
  singer: (row) => `{"type":"RECORD","stream":"invoices","record":${row}}`,
  jsonl: (row) => row,
};

const amounts = (em: HubSpotEmulator) => Object.fromEntries(em.records('invoices').map((r) => [r.properties.invoice_number, r.properties.amount]));

describe.each(Object.entries(PROTOCOLS))('%s: integers beyond 2^53', (_name, wrap) => {
  it('keep every digit as keys and values, in the CRM and in the store', async () => {
    const { path } = hubspotConfig(emulator, UPSERT_BY_NUMBER);
    const first = await runCli(['write', '--config', path], { stdin: ROWS.map(wrap) });
    expect(first.code, first.stderr).toBe(0);
    expect(amounts(emulator)).toEqual(EXACT_AMOUNTS);
    expect(onlyObjectCounts(first.stderr)).toMatchObject({ created: 3, rejected: 0 });

    // 9007199254740992 is the double nearest 9007199254740993: only exact digits see the change.
    const changed = [ROWS[0].replace('9007199254740993', '9007199254740992'), ROWS[1]];
    const second = await runCli(['write', '--config', path], { stdin: changed.map(wrap) });
    expect(second.code, second.stderr).toBe(0);
    expect(onlyObjectCounts(second.stderr)).toMatchObject({ updated: 1, unchanged: 1 });
    expect(amounts(emulator)['1290000000000000001']).toBe('9007199254740992');
  });
});

describe('Singer BATCH files: integers beyond 2^53', () => {
  it('keep every digit, like RECORDs', async () => {
    const { dir, path } = hubspotConfig(emulator, UPSERT_BY_NUMBER);
    const file = join(dir, 'invoices-1.jsonl.gz');
    writeFileSync(file, gzipSync(ROWS.join('\n') + '\n'));
    const manifest = { type: 'BATCH', stream: 'invoices', encoding: { format: 'jsonl', compression: 'gzip' }, manifest: [pathToFileURL(file).href] };
    const run = await runCli(['--config', path], { stdin: [JSON.stringify(manifest)], output: 'singer' });
    expect(run.code, run.stderr).toBe(0);
    expect(amounts(emulator)).toEqual(EXACT_AMOUNTS);
  });
});

describe('HubSpot, comparing with the CRM (change_detection: crm)', () => {
  it('sees a change in the 16th digit', async () => {
    emulator.seedRecords('invoices', [{ invoice_number: '1290000000000000001', amount: '9007199254740992' }]);
    const { path } = hubspotConfig(emulator, UPSERT_BY_NUMBER);
    mergeConfig(path, { change_detection: 'crm' });
    const run = await runCli(['write', '--config', path], { stdin: [ROWS[0]] });
    expect(run.code, run.stderr).toBe(0);
    expect(onlyObjectCounts(run.stderr)).toMatchObject({ updated: 1 });
    expect(amounts(emulator)['1290000000000000001']).toBe('9007199254740993');
  });
});

describe.each(['rest', 'bulk'])('Salesforce (%s): integers beyond 2^53', (api) => {
  it('go out with every digit, in the JSON body or the CSV', async () => {
    const org = await startOrg();
    try {
      const { path } = salesforceConfig(org, { stream: 'invoices', mode: 'upsert', ...BY_NUMBER }, { api });
      // Quantity__c is a Number(18, 0): 18 digits fit the field, not a double.
      const rows = ['{"invoice_id":1290000000000000001,"quantity":123456789012345678,"region":"EMEA"}', '{"invoice_id":1290000000000000002,"quantity":123456789012345677,"region":"EMEA"}'];
      const run = await runCli(['write', '--config', path], { stdin: rows.map(PROTOCOLS.singer) });
      expect(run.code, run.stderr).toBe(0);
      const sent = org.requests.filter((r) => r.method !== 'GET' && r.path.includes('/services/data/')).map((r) => r.rawBody).join('\n');
      for (const digits of ['1290000000000000001', '1290000000000000002', '123456789012345678', '123456789012345677']) expect(sent).toContain(digits);
      expect(byNumber(org).size, run.stderr).toBe(2);
    } finally {
      await org.close();
    }
  });
});
