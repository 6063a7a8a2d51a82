// A 2xx answer the connector cannot read (a proxy's HTML page, a body cut off halfway, JSON of
// another shape) says nothing about the rows: it is a lost answer, never a rejection. Reads and
// idempotent writes are sent again; creates are read back by their key before anything is resent;
// an answer that stays unreadable ends the run with a transient error, no row rejected and no
// STATE after the first row that was not written. Both CRMs, and Salesforce's Bulk API 2.0 files.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../emulators/salesforce/index.ts';
import type { GarbledBody } from '../../emulators/shared/garbled.ts';
import { airbyteInput, allStates, CRM_SCENARIOS, echoedStates, startSalesforceUnderTest, type CrmUnderTest, type SyncMode } from '../reliability/crm-scenarios.ts';
import { errorTraces, runCli, summaryRow, tempDir } from '../support/run-cli.ts';

const BODIES: GarbledBody[] = ['html', 'truncated', 'wrong-shape'];
const STATE_EVERY = 100;

let crm: CrmUnderTest | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

const rejectedLines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);

describe.each(CRM_SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s: garbage 2xx answers', (_name, scenario) => {
  it.each(BODIES.flatMap((body) => (['upsert', 'insert'] as SyncMode[]).map((mode) => [mode, body] as const)))(
    '%s: a write answered with %s is settled like a lost answer, never rejected',
    async (mode, body) => {
      crm = await scenario.start();
      const rows = crm.rows(500);
      const dir = tempDir();
      const rejectedPath = join(dir, 'rejected.jsonl');
      const config = crm.writeConfig(dir, mode, { stream: 'invoices', config: { rejected_records_path: rejectedPath } });
      crm.inject([{ kind: 'garbled', body, on: 'write', every: 2, times: 2 }]);
      const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, STATE_EVERY) });
      expect(run.code, run.stderr).toBe(0);
      expect(crm.state().duplicates).toEqual([]);
      expect(crm.state().byKey).toEqual(crm.expected(rows));
      expect(echoedStates(run.messages)).toMatchObject({ through: allStates(500, STATE_EVERY), rejected: 0 });
      const counts = summaryRow(run.stderr, 'invoices');
      expect(counts).toMatchObject({ received: 500, rejected: 0, unknown: 0 });
      // An upsert sent again after its garbled answer finds the records the first send made.
      expect(counts.created + counts.updated).toBe(500);
      expect(rejectedLines(rejectedPath)).toEqual([]);
    },
  );

  it.each(BODIES)('a read answered with %s is read again', async (body) => {
    crm = await scenario.start();
    const rows = crm.rows(300);
    crm.seed(rows);
    const config = crm.writeConfig(tempDir(), 'update', { stream: 'invoices' });
    crm.inject([{ kind: 'garbled', body, on: 'read', times: 2 }]);
    const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, STATE_EVERY) });
    expect(run.code, run.stderr).toBe(0);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    expect(summaryRow(run.stderr, 'invoices')).toMatchObject({ received: 300, updated: 300, rejected: 0, not_found: 0 });
  });

  it.each(BODIES)('the first call of the run (reading the object) answered with %s is asked again', async (body) => {
    crm = await scenario.start();
    const rows = crm.rows(100);
    const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices' });
    crm.inject([{ kind: 'garbled', body, on: 'any', times: 1 }]);
    const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, STATE_EVERY) });
    expect(run.code, run.stderr).toBe(0);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
  });

  it('an answer that stays unreadable ends the run with a transient error: no row rejected, no STATE past an unwritten row', async () => {
    crm = await scenario.start();
    const rows = crm.rows(500);
    const dir = tempDir();
    const rejectedPath = join(dir, 'rejected.jsonl');
    const config = crm.writeConfig(dir, 'upsert', { stream: 'invoices', crm: { max_retry_ms: 3000 }, config: { rejected_records_path: rejectedPath } });
    crm.inject([{ kind: 'garbled', body: 'html', on: 'write', times: Infinity }]);
    const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, STATE_EVERY) });
    expect(run.code).toBe(1);
    expect(errorTraces(run.messages)[0]?.trace.error).toMatchObject({ failure_type: 'transient_error', message: expect.stringMatching(/not .*expected answer/) });
    // Every write was garbled: no row is known to be written, so no state may go out.
    expect(echoedStates(run.messages).through).toEqual([]);
    expect(summaryRow(run.stderr, 'invoices')).toMatchObject({ rejected: 0 });
    expect(rejectedLines(rejectedPath)).toEqual([]);
  });
});

describe('Salesforce Bulk API 2.0: garbage answers while following a job', () => {
  let sf: SalesforceEmulator;
  const BULK = { api: 'bulk' };

  it.each([
    ['the job creation', 'POST', '/jobs/ingest$', BODIES],
    // Its answer (201) has no body to cut short or to shape: only a page in its place tells.
    ['the upload', 'PUT', '/batches$', ['html']],
    ['the close', 'PATCH', '/jobs/ingest/750[A-Za-z0-9]+$', BODIES],
    ['the job state', 'GET', '/jobs/ingest/750[A-Za-z0-9]+$', BODIES],
    ['the successful results file', 'GET', '/successfulResults$', BODIES],
  ] as const)('%s answered with garbage is asked again; every row lands, none rejected', async (_what, method, path, bodies) => {
    for (const body of bodies) {
      ({ crm, emulator: sf } = await startSalesforceUnderTest());
      const rows = crm.rows(1000);
      const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices', crm: BULK });
      sf.injectFaults([{ kind: 'garbled', body, match: { method, pathMatches: path } }]);
      const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 250) });
      expect(run.code, `${body}: ${run.stderr}`).toBe(0);
      expect(sf.requests.filter((r) => r.method === method && new RegExp(path).test(r.path)).length, 'asked again').toBeGreaterThan(1);
      expect(crm.state().byKey).toEqual(crm.expected(rows));
      const counts = summaryRow(run.stderr, 'invoices');
      expect(counts, body).toMatchObject({ received: 1000, rejected: 0, unknown: 0 });
      expect(counts.created + counts.updated, body).toBe(1000);
      await crm.close();
      crm = undefined;
    }
  });
});
