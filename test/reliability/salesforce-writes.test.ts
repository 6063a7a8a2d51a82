// What only Salesforce has: sObject Collections creates are not idempotent, and Bulk API 2.0 jobs
// live on in Salesforce after the run that made them stops. A create whose answer was lost is
// read back by the external id before anything is sent again (or, without one, reported as
// unknown_outcome); a job's every step may fail and be retried; a run stopped or killed mid-job
// leaves nothing half-done that a rerun would double.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../emulators/salesforce/index.ts';
import { byType, runCli, summaryOf, tempDir, writeJson } from '../support/run-cli.ts';
import { airbyteInput, allStates, echoedStates, SALESFORCE_CLIENT, startSalesforceUnderTest, type CrmUnderTest, type SyncMode } from './crm-scenarios.ts';
import { startCli, until } from './live-cli.ts';

let crm: CrmUnderTest | undefined;
let sf: SalesforceEmulator;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

async function start() {
  ({ crm, emulator: sf } = await startSalesforceUnderTest());
  return crm!;
}

const traceOf = (messages: Record<string, any>[]) => byType(messages, 'TRACE').find((m) => m.trace.type === 'ERROR')?.trace.error;
const jobCreates = () => sf.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs/ingest'));
const closes = () => sf.requests.filter((r) => r.method === 'PATCH' && (r.body as { state?: string })?.state === 'UploadComplete');
const creates = () => sf.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/composite/sobjects'));
const BULK = { api: 'bulk' };

describe('Salesforce inserts whose answer was lost', () => {
  it('with an external id: settled by reading the keys back, no duplicates, all counted created', async () => {
    const crm = await start();
    const rows = crm.rows(1000);
    const config = crm.writeConfig(tempDir(), 'insert', { stream: 'invoices', crm: { request_timeout_ms: 700 } });
    sf.injectFaults([
      { kind: 'reset-after', every: 2, times: 3, match: { method: 'POST', pathIncludes: '/composite/sobjects' } },
      // Answers after the client gave up: the read-back may miss it, the resend then meets DUPLICATE_VALUE.
      { kind: 'latency', ms: 1500, every: 3, times: 2, match: { method: 'POST', pathIncludes: '/composite/sobjects' } },
    ]);
    const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 100) });
    expect(run.code, run.stderr).toBe(0);
    expect(crm.state().duplicates).toEqual([]);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    expect(summaryOf(run.stderr)['invoices:Invoice__c']).toMatchObject({ received: 1000, created: 1000, rejected: 0, unknown: 0 });
    expect(echoedStates(run.messages).through).toEqual(allStates(1000, 100));
    // The faults did cut creates off: more were sent than the five batches.
    expect(creates().length).toBeGreaterThan(5);
  });

  it('without a key that identifies records: reported as unknown_outcome, never resent, the states after them held back', async () => {
    await start();
    const dir = tempDir();
    const rejectedPath = join(dir, 'rejected.jsonl');
    const config = writeJson(dir, 'config.json', {
      crm: { type: 'salesforce', login_url: sf.url, auth: { type: 'client_credentials', client_id: SALESFORCE_CLIENT.clientId, client_secret: SALESFORCE_CLIENT.clientSecret }, api: 'rest' },
      objects: [{
        stream: 'invoices', object: 'Invoice__c', mode: 'insert', match: { source: 'invoice_id' },
        fields: [{ source: 'invoice_id', destination: 'Invoice_Number__c' }, { source: 'amount', destination: 'Amount__c' }],
      }],
      state: { path: join(dir, 'state.db') },
      rejected_records_path: rejectedPath,
    });
    const rows = Array.from({ length: 600 }, (_, i) => ({ invoice_id: `N-${i}`, amount: i }));
    sf.injectFaults([{ kind: 'reset-after', every: 2, match: { method: 'POST', pathIncludes: '/composite/sobjects' } }]);
    const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 50) });

    expect(run.code).toBe(1);
    expect(traceOf(run.messages)).toMatchObject({ failure_type: 'transient_error', message: expect.stringContaining('200 row(s) may or may not have been written') });
    // Salesforce did create them (the reset came after commit), and nothing was sent twice.
    expect(sf.records('Invoice__c')).toHaveLength(600);
    expect(creates()).toHaveLength(3);
    expect(summaryOf(run.stderr)['invoices:Invoice__c']).toMatchObject({ received: 600, created: 400, unknown: 200 });
    const unknown = readFileSync(rejectedPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(unknown).toHaveLength(200);
    expect(new Set(unknown.map((r) => r.code))).toEqual(new Set(['unknown_outcome']));
    expect(unknown[0].message).toMatch(/may or may not have created this record .*cannot check; a rerun sends it again/);
    // The second create to arrive was cut off: one whole call of 200, whichever it was.
    const first = Math.min(...unknown.map((r) => rows.findIndex((row) => row.invoice_id === r.key)));
    const call = rows.slice(first - (first % 200), first - (first % 200) + 200);
    expect(unknown.map((r) => r.key).sort()).toEqual(call.map((r) => r.invoice_id).sort());
    expect(echoedStates(run.messages).through).toEqual(allStates(600, 50).filter((through) => through < rows.indexOf(call[0])));
  });
});

describe('Salesforce Bulk API 2.0 jobs', () => {
  it.each(['upsert', 'insert'] as SyncMode[])('%s: every step of a job may fail and is retried safely; the rows land exactly once', async (mode) => {
    const crm = await start();
    const rows = crm.rows(3000);
    const config = crm.writeConfig(tempDir(), mode, { stream: 'invoices', crm: { ...BULK, request_timeout_ms: 2000 } });
    sf.injectFaults([
      { kind: 'status', status: 500, match: { method: 'GET', pathMatches: '/jobs/ingest$' } },
      { kind: 'reset-after', match: { method: 'POST', pathMatches: '/jobs/ingest$' } },
      { kind: 'reset-after', match: { method: 'PUT', pathIncludes: '/batches' } },
      { kind: 'reset-after', match: { method: 'PATCH', pathIncludes: '/jobs/ingest/' } },
      { kind: 'status', status: 503, times: 2, match: { method: 'GET', pathMatches: '/jobs/ingest/750[A-Za-z0-9]+$' } },
      { kind: 'reset-before', match: { pathIncludes: '/successfulResults' } },
      { kind: 'latency', ms: 3000, match: { pathIncludes: '/successfulResults' } },
    ]);
    const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 250) });
    expect(run.code, run.stderr).toBe(0);
    expect(crm.state().duplicates).toEqual([]);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    expect(echoedStates(run.messages).through).toEqual(allStates(3000, 250));
    expect(summaryOf(run.stderr)['invoices:Invoice__c']).toMatchObject({ received: 3000, created: 3000, rejected: 0, unknown: 0 });
    // The job was made twice (the first answer was lost; that job stays Open and empty); the
    // close was cut off after it landed, and the one sent again is refused: the job is past Open.
    expect(jobCreates()).toHaveLength(2);
    expect(closes().map((r) => r.status)).toEqual([0, 400]);
  });

  it.each(['upsert', 'insert'] as SyncMode[])('%s: killed while its job processes, a rerun waits for that job and converges without doubling a row', async (mode) => {
    const crm = await start();
    // The killed run's job processes until the rerun has seen it processing, however loaded the machine.
    sf.holdBulkJobs();
    const rows = crm.rows(2000);
    const config = crm.writeConfig(tempDir(), mode, { stream: 'invoices', crm: BULK });
    const input = airbyteInput('invoices', rows, 200);
    const first = startCli(['write', '--config', config], input);
    await until(() => closes().some((r) => r.status === 200), 'the job is closed and processing');
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await first.done).signal).toBe('SIGKILL');
    expect(crm.state().byKey.size).toBe(0);
    const killedJob = closes()[0].path.split('/').at(-1)!;

    const rerunning = startCli(['write', '--config', config], input);
    const pollsOfKilledJob = () => sf.requests.filter((r) => r.at >= killedAt && r.method === 'GET' && r.path.endsWith(`/jobs/ingest/${killedJob}`));
    await until(() => pollsOfKilledJob().length > 0, 'the rerun asks after the killed run\'s job');
    sf.releaseBulkJobs();
    const rerun = await rerunning.done;
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('waiting for 1 Bulk API job(s) on Invoice__c still processing');
    expect(crm.state().duplicates).toEqual([]);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    expect(echoedStates(rerun.messages).through).toEqual(allStates(2000, 200));
    const counts = summaryOf(rerun.stderr)['invoices:Invoice__c'];
    expect(counts.rejected + counts.unknown).toBe(0);
    // Insert never modifies: the keys the killed run's job created are skipped as existing.
    if (mode === 'insert') expect(counts.skipped).toBe(2000);
    // The rerun read or wrote nothing before the killed run's job had ended.
    const polls = pollsOfKilledJob();
    const firstWork = sf.requests.find((r) => r.at >= killedAt && (r.path.endsWith('/query') || (r.method === 'POST' && r.path.endsWith('/jobs/ingest'))));
    expect(firstWork!.at).toBeGreaterThanOrEqual(polls.at(-1)!.at);
  });

  it('SIGTERM before the upload is complete: the job is aborted, nothing is written, exit 1; a rerun converges', async () => {
    const crm = await start();
    const rows = crm.rows(2000);
    const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices', crm: BULK });
    const input = airbyteInput('invoices', rows, 200);
    sf.injectFaults([{ kind: 'latency', ms: 1000, match: { method: 'PUT', pathIncludes: '/batches' } }]);
    const first = startCli(['write', '--config', config], input);
    await until(() => sf.requests.some((r) => r.method === 'PUT'), 'the upload is under way');
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.code).toBe(1);
    expect(traceOf(stopped.messages)).toMatchObject({ failure_type: 'transient_error', message: expect.stringContaining('interrupted (SIGTERM)') });
    expect(sf.requests.some((r) => r.method === 'PATCH' && (r.body as { state?: string }).state === 'Aborted')).toBe(true);
    expect(closes()).toHaveLength(0);
    expect(crm.state().byKey.size).toBe(0);
    expect(echoedStates(stopped.messages).through).toEqual([]);

    const rerun = await runCli(['write', '--config', config], { stdin: input });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
  });

  it('SIGTERM while a closed job processes: the run stops at once without the job\'s states, exit 1; a rerun waits for the job and converges', async () => {
    const crm = await start();
    // The job processes until the rerun has seen it processing, however loaded the machine.
    sf.holdBulkJobs();
    const rows = crm.rows(2000);
    const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices', crm: BULK });
    const input = airbyteInput('invoices', rows, 200);
    const first = startCli(['write', '--config', config], input);
    await until(() => closes().some((r) => r.status === 200), 'the job is closed and processing');
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    const stoppedAt = Date.now();
    expect(stopped.code).toBe(1);
    expect(traceOf(stopped.messages)?.message).toContain('interrupted (SIGTERM)');
    // Its rows were not confirmed written when the run stopped: no state may cover them.
    expect(echoedStates(stopped.messages).through).toEqual([]);

    const job = closes()[0].path.split('/').at(-1)!;
    const rerunning = startCli(['write', '--config', config], input);
    await until(() => sf.requests.some((r) => r.at >= stoppedAt && r.method === 'GET' && r.path.endsWith(`/jobs/ingest/${job}`)), 'the rerun asks after the stopped run\'s job');
    sf.releaseBulkJobs();
    const rerun = await rerunning.done;
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('waiting for 1 Bulk API job(s) on Invoice__c still processing');
    expect(crm.state().duplicates).toEqual([]);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
  });

  it('an insert without a key column whose job cannot be followed: unknown_outcome for its rows, no second job', async () => {
    await start();
    const dir = tempDir();
    const config = writeJson(dir, 'config.json', {
      crm: {
        type: 'salesforce', login_url: sf.url, api: 'bulk', request_timeout_ms: 300, max_retry_ms: 1500,
        auth: { type: 'client_credentials', client_id: SALESFORCE_CLIENT.clientId, client_secret: SALESFORCE_CLIENT.clientSecret },
      },
      objects: [{ object: 'Invoice__c', mode: 'insert', match: { source: 'invoice_id' }, fields: [{ source: 'invoice_id', destination: 'Invoice_Number__c' }] }],
      state: { path: join(dir, 'state.db') },
    });
    sf.injectFaults([{ kind: 'latency', ms: 5000, times: Infinity, match: { method: 'GET', pathMatches: '/jobs/ingest/750[A-Za-z0-9]+$' } }]);
    const rows = Array.from({ length: 500 }, (_, i) => JSON.stringify({ invoice_id: `U-${i}` }));
    const run = await runCli(['write', '--config', config], { stdin: rows });
    expect(run.code).toBe(1);
    expect(traceOf(run.messages)?.message).toContain('500 row(s) may or may not have been written');
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 500, created: 0, unknown: 500 });
    expect(jobCreates()).toHaveLength(1);
    await until(() => sf.records('Invoice__c').length === 500, 'the job ends in Salesforce all the same');
  });
});
