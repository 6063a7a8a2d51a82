// A CRM (or a proxy before it) may ask for a wait of an hour. No wait may outlast crm.max_retry_ms:
// one longer than the budget left ends the run at once with a transient error that names it and
// says when to come back; SIGTERM ends every wait (retry pauses, the rate limiter's, Bulk API job
// polls) at once. Either way the rows written so far are committed and their states go out, and
// no state past an unwritten row. Nothing here waits for the hour: the test timeouts are far below it.
import { afterEach, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../emulators/salesforce/index.ts';
import { airbyteInput, allStates, CRM_SCENARIOS, echoedStates, startSalesforceUnderTest, type CrmFault, type CrmUnderTest, type Row } from '../reliability/crm-scenarios.ts';
import { startCli, until, type LiveRun } from '../reliability/live-cli.ts';
import { errorTraces, runCli, tempDir } from '../support/run-cli.ts';

const HOUR_SECONDS = 3600;
const ROWS = 600;
const STATE_EVERY = 100;
/** Far below the hour asked for, far above what stopping takes on a loaded machine. */
const PROMPTLY_MS = 10_000;

let crm: CrmUnderTest | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

/** The states that went out are a prefix of the input's, and every row they cover is in the CRM. */
function expectNoStatePastAnUnwrittenRow(messages: Record<string, any>[], rows: Row[]): void {
  const { through } = echoedStates(messages);
  expect(through).toEqual(allStates(ROWS, STATE_EVERY).slice(0, through.length));
  const held = crm!.state().byKey;
  for (const row of rows.slice(0, (through.at(-1) ?? -1) + 1)) expect(held.has(crm!.key(row)), crm!.key(row)).toBe(true);
}

/** SIGTERM ends the run promptly (killed after 30 s, should it wait), exit 1, saying it was interrupted. */
async function stopPromptly(run: LiveRun): Promise<Awaited<LiveRun['done']>> {
  const signalledAt = Date.now();
  run.child.kill('SIGTERM');
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 30_000);
  const stopped = await run.done;
  clearTimeout(timer);
  expect(Date.now() - signalledAt).toBeLessThan(PROMPTLY_MS);
  expect(stopped.code).toBe(1);
  expect(errorTraces(stopped.messages)[0]?.trace.error).toMatchObject({ failure_type: 'transient_error', message: expect.stringContaining('interrupted (SIGTERM)') });
  return stopped;
}

describe.each(CRM_SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s: a Retry-After of an hour', (name, scenario) => {
  // Paced to two requests a second where the CRM has a budget (HubSpot), so that batches queue
  // behind the one told to wait: they must not wait out the hour either.
  const pace = { maxRequests: 2, intervalMs: 1000 };
  const hourWait: CrmFault = { kind: 'rate-limited', retryAfterSeconds: HOUR_SECONDS, times: 1 };

  it('longer than max_retry_ms: the run ends at once with a transient error naming the wait and when to rerun', { timeout: 60_000 }, async () => {
    crm = await scenario.start();
    const rows = crm.rows(ROWS);
    const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices', pace, crm: { max_retry_ms: 300_000 } });
    crm.inject([hourWait]);
    const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, STATE_EVERY), timeoutMs: 45_000 });
    expect(run.signal, 'the CLI had to be killed: it waited').toBeNull();
    expect(run.code).toBe(1);
    expect(errorTraces(run.messages)[0]?.trace.error).toMatchObject({
      failure_type: 'transient_error',
      message: expect.stringMatching(new RegExp(`${name} asked to wait 3600 s \\(Retry-After\\), more than max_retry_ms 300000 allows; rerun after \\d\\d:\\d\\d UTC`)),
    });
    expectNoStatePastAnUnwrittenRow(run.messages, rows);
  });

  it('SIGTERM during the wait ends it at once: exit 1, committed rows\' states out, none past an unwritten row', { timeout: 60_000 }, async () => {
    crm = await scenario.start();
    const rows = crm.rows(ROWS);
    // Within the budget (max_retry_ms is at most an hour), so the CLI waits, and says so.
    const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices', pace, crm: { max_retry_ms: HOUR_SECONDS * 1000 } });
    crm.inject([{ ...hourWait, retryAfterSeconds: 3000 }]);
    const run = startCli(['write', '--config', config], airbyteInput('invoices', rows, STATE_EVERY));
    await until(() => /retrying in 3000\.0 s/.test(run.stderr()), 'the CLI says it waits 50 minutes');
    const stopped = await stopPromptly(run);
    expectNoStatePastAnUnwrittenRow(stopped.messages, rows);
  });
});

describe('Salesforce Bulk API 2.0: a job that takes an hour', () => {
  let sf: SalesforceEmulator;

  it('SIGTERM while its job is polled stops at once, with no state for the rows of the job', { timeout: 60_000 }, async () => {
    ({ crm, emulator: sf } = await startSalesforceUnderTest({ bulkProcessingDelayMs: HOUR_SECONDS * 1000 }));
    const rows = crm.rows(ROWS);
    const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices', crm: { api: 'bulk' } });
    const run = startCli(['write', '--config', config], airbyteInput('invoices', rows, STATE_EVERY));
    const polls = () => sf.requests.filter((r) => r.method === 'GET' && /\/jobs\/ingest\/750[A-Za-z0-9]+$/.test(r.path) && r.status === 200);
    await until(() => polls().length >= 2, 'the job is being polled');
    const stopped = await stopPromptly(run);
    // The job holds every row and has not ended: none is written yet, so no state may go out.
    expect(echoedStates(stopped.messages).through).toEqual([]);
  });
});
