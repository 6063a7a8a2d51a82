// HubSpot's batch/create is not idempotent. When the connection fails after HubSpot received a
// create, the connector must find out what landed before sending anything again: by the unique
// match property when there is one; without one it reports the rows as unknown_outcome and holds
// their states back, rather than guess (a resend could double them, a skip could drop them).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { runCli, summaryOf, tempDir, writeJson } from '../support/run-cli.ts';
import { startEmulator, TOKEN } from '../hubspot/support.ts';
import { airbyteInput, allStates, echoedStates, FAST_RATE, hubspotScenario, type CrmUnderTest } from './crm-scenarios.ts';

const CREATE = { method: 'POST', pathIncludes: '/batch/create' };

describe('HubSpot insert with a unique match property', () => {
  let crm: CrmUnderTest;
  beforeEach(async () => { crm = await hubspotScenario.start(); });
  afterEach(async () => { await crm.close(); });

  it('settles creates cut off after commit or timed out by reading them back: no duplicates, all counted created', async () => {
    const rows = crm.rows(1000);
    const config = crm.writeConfig(tempDir(), 'insert', { stream: 'invoices', crm: { request_timeout_ms: 700 } });
    crm.inject([
      { kind: 'reset-after', every: 2, times: 3 },
      // Answers after the client gave up: the read-back may miss it, the resend then meets a 409.
      { kind: 'latency', ms: 1500, every: 3, times: 2 },
    ]);
    const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 100) });
    expect(run.code, run.stderr).toBe(0);
    expect(crm.state().duplicates).toEqual([]);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    expect(summaryOf(run.stderr)['invoices:invoices']).toMatchObject({ received: 1000, created: 1000, rejected: 0, unknown: 0 });
    expect(echoedStates(run.messages).through).toEqual(allStates(1000, 100));
  });
});

describe('HubSpot insert without a unique match property', () => {
  let emulator: HubSpotEmulator;
  beforeEach(async () => { emulator = await startEmulator({ rateLimit: FAST_RATE }); });
  afterEach(async () => { await emulator.close(); });

  it('reports rows whose create was cut off as unknown_outcome, never resends them, and holds the states after them', async () => {
    const dir = tempDir();
    const rejectedPath = join(dir, 'rejected.jsonl');
    const config = writeJson(dir, 'config.json', {
      crm: { type: 'hubspot', access_token: TOKEN, base_url: emulator.url, rate_limit: { max_requests: 100, interval_ms: 1000 } },
      objects: [{
        stream: 'invoices', object: 'invoices', mode: 'insert', match: { source: 'invoice_id' },
        fields: [{ source: 'invoice_id', destination: 'invoice_number' }, { source: 'amount', destination: 'amount' }],
      }],
      state: { path: join(dir, 'state.db') },
      rejected_records_path: rejectedPath,
    });
    const rows = Array.from({ length: 300 }, (_, i) => ({ invoice_id: `N-${i}`, amount: i }));
    emulator.injectFaults([{ kind: 'reset-after', match: CREATE, every: 2 }]);
    const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 50) });

    expect(run.code).toBe(1);
    const trace = run.messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR')!.trace.error;
    expect(trace).toMatchObject({ failure_type: 'transient_error', message: expect.stringContaining('100 row(s) may or may not have been written') });
    // HubSpot did create them (the reset came after commit), and nothing was sent twice.
    expect(emulator.records('invoices')).toHaveLength(300);
    expect(emulator.requests.filter((r) => r.path.endsWith('/batch/create'))).toHaveLength(3);
    const counts = summaryOf(run.stderr)['invoices:invoices'];
    expect(counts).toMatchObject({ received: 300, created: 200, unknown: 100 });

    const unknown = readFileSync(rejectedPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(unknown).toHaveLength(100);
    expect(new Set(unknown.map((r) => r.code))).toEqual(new Set(['unknown_outcome']));
    expect(unknown[0].message).toMatch(/may or may not have created this record .*cannot check; a rerun sends it again/);
    // The second create to arrive was cut off: one whole batch, whichever it was.
    const first = Math.min(...unknown.map((r) => rows.findIndex((row) => row.invoice_id === r.key)));
    const batch = rows.slice(first - (first % 100), first - (first % 100) + 100);
    expect(unknown.map((r) => r.key).sort()).toEqual(batch.map((r) => r.invoice_id).sort());

    // States before the first unknown row go out; none after it.
    const lineOfFirst = rows.indexOf(batch[0]);
    expect(echoedStates(run.messages).through).toEqual(allStates(300, 50).filter((through) => through < lineOfFirst));
  });
});
