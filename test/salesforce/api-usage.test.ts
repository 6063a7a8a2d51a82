// crm.max_api_usage_percent: the org's daily API requests are shared by every integration, so a
// run stops cleanly before it takes usage past the share (what was written committed, every
// written row's state emitted, none past an unwritten one), naming the usage; Bulk API 2.0 jobs
// count as the calls they make and are never left half done.
import { afterEach, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../emulators/salesforce/index.ts';
import { runCli, tempDir } from '../support/run-cli.ts';
import { airbyteInput, allStates, echoedStates, startSalesforceUnderTest, type CrmUnderTest } from '../reliability/crm-scenarios.ts';

let crm: CrmUnderTest | undefined;
let emulator: SalesforceEmulator | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

const traceOf = (messages: Record<string, any>[]) => messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR')?.trace.error;

async function runWithin(rows: number, api: 'rest' | 'bulk', dailyApiLimit: number, percent: number) {
  ({ crm, emulator } = await startSalesforceUnderTest({ dailyApiLimit, bulkProcessingDelayMs: 0 }));
  const input = crm.rows(rows);
  const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices', crm: { api, max_api_usage_percent: percent, bulk_threshold: 200 } });
  const result = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', input, 200) });
  return { result, input, crm: crm!, emulator: emulator! };
}

/** The run stopped cleanly: states only of written rows, in order, and no request the org refused. */
function expectCleanStop(run: Awaited<ReturnType<typeof runWithin>>, rows: number) {
  const { result, input, crm, emulator } = run;
  expect(result.code).toBe(1);
  expect(emulator.requests.filter((r) => r.status === 403)).toEqual([]);
  const { through, records } = echoedStates(result.messages);
  expect(through.length).toBeGreaterThan(0);
  expect(through.length).toBeLessThan(allStates(rows, 200).length);
  expect(through).toEqual(allStates(rows, 200).slice(0, through.length));
  expect(records).toBe(through.at(-1)! + 1);
  const held = crm.state().byKey;
  for (const row of input.slice(0, records)) expect(held.has(crm.key(row))).toBe(true);
}

describe('Salesforce API usage share', () => {
  it('stops before the share with sObject Collections, naming the usage and the setting', async () => {
    const run = await runWithin(3000, 'rest', 20, 50);
    expectCleanStop(run, 3000);
    expect(traceOf(run.result.messages)).toMatchObject({
      failure_type: 'transient_error',
      message: expect.stringMatching(/the Salesforce org has used \d+ of 20 daily API requests \(\d+ %\).*crm\.max_api_usage_percent \(50 %\).*raise crm\.max_api_usage_percent/),
    });
    expect(run.emulator.apiCallsUsed()).toBeLessThanOrEqual(10);
  });

  it('counts a Bulk API job as its calls: starts none without room for them, finishes the ones it started', async () => {
    // Two jobs of 10,000 rows; the share leaves room for the metadata and one job only.
    const run = await runWithin(20_000, 'bulk', 24, 50);
    expectCleanStop(run, 20_000);
    expect(run.emulator.apiCallsUsed()).toBeLessThanOrEqual(12);
    // Every job created was followed to its end: none left open or unread.
    const created = run.emulator.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs/ingest')).length;
    expect(created).toBeGreaterThan(0);
    expect(run.emulator.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/successfulResults'))).toHaveLength(created);
  });
});
