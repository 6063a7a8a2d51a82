// How each CRM's client reacts to one kind of trouble at a time: its throttles (with and without
// Retry-After, a storm of them, the daily limit), server errors, a hung server, an access token
// that expires mid-run. Waits are checked from below only (never "within N ms"): a loaded
// machine may be slower, never faster.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, summaryRow, tempDir } from '../support/run-cli.ts';
import { airbyteInput, allStates, CRM_SCENARIOS, echoedStates, type ConfigOptions, type CrmFault, type CrmUnderTest, type StartOptions, type SyncMode } from './crm-scenarios.ts';

let crm: CrmUnderTest | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

interface Case {
  rows?: number;
  mode?: SyncMode;
  faults: CrmFault[];
  crm?: Record<string, unknown>;
  pace?: ConfigOptions['pace'];
  start?: StartOptions;
}

async function run(scenario: (typeof CRM_SCENARIOS)[number], spec: Case) {
  crm = await scenario.start(spec.start);
  const rows = crm.rows(spec.rows ?? 50);
  const config = crm.writeConfig(tempDir(), spec.mode ?? 'upsert', { stream: 'invoices', crm: spec.crm, pace: spec.pace });
  crm.inject(spec.faults);
  const input = airbyteInput('invoices', rows, 100);
  const result = await runCli(['write', '--config', config], { stdin: input });
  return { result, rows, crm, config, input };
}

/** Milliseconds between the first answer with this status and the next request of that target. */
function waitAfter(crm: CrmUnderTest, status: number, target = 'write'): number {
  const requests = crm.requests().filter((r) => r.target === target);
  const at = requests.findIndex((r) => r.status === status);
  expect(at, `a ${status} answer`).toBeGreaterThanOrEqual(0);
  expect(requests.length).toBeGreaterThan(at + 1);
  return requests[at + 1].at - requests[at].at;
}

const traceOf = (messages: Record<string, any>[]) => messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR')?.trace.error;

describe.each(CRM_SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s retries', (_name, scenario) => {
  it.each(scenario.throttles.map((throttle) => [throttle.name, throttle] as const))('waits as told: %s', async (_what, throttle) => {
    const { result, rows, crm } = await run(scenario, { start: throttle.start, faults: [throttle.fault] });
    expect(result.code, result.stderr).toBe(0);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    expect(waitAfter(crm, crm.statusOf(throttle.fault))).toBeGreaterThanOrEqual(throttle.minWaitMs);
  });

  it(`rides out a storm of ${scenario.storm.name}: waiting is not failing, so they do not use up the attempts`, async () => {
    const { result, rows, crm } = await run(scenario, { start: scenario.storm.start, faults: [{ ...scenario.storm.fault, times: 8 }] });
    expect(result.code, result.stderr).toBe(0);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    expect(crm.requests().filter((r) => r.status === crm.statusOf(scenario.storm.fault))).toHaveLength(8);
  });

  it('retries 5xx with backoff', async () => {
    const { result, rows, crm } = await run(scenario, { faults: [{ kind: 'server-error', status: 503, times: 3 }] });
    expect(result.code, result.stderr).toBe(0);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    const writes = crm.requests().filter((r) => r.target === 'write');
    expect(writes.map((r) => r.status)).toEqual([503, 503, 503, 200]);
    // Retried, but not silently.
    expect(result.stderr).toMatch(/503.*retrying in .*attempt 4 of/);
    // Full jitter over 0.5 s, 1 s, 2 s ceilings: at least half of each.
    expect(writes[3].at - writes[0].at).toBeGreaterThanOrEqual(1700);
  });

  it('times out a hung request and sends it again (typed calls and batch writes alike)', async () => {
    const { result, rows, crm } = await run(scenario, {
      crm: { request_timeout_ms: 500 },
      faults: [{ kind: 'latency', ms: 60_000, on: 'any' }, { kind: 'latency', ms: 60_000, on: 'write' }],
    });
    expect(result.code, result.stderr).toBe(0);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    expect(crm.requests().filter((r) => r.target === 'write')).toHaveLength(2);
  });

  it('never stalls: a CRM that cannot answer ends the run with a transient error after the retry time limit', async () => {
    const started = Date.now();
    const { result } = await run(scenario, {
      crm: { request_timeout_ms: 300, max_retry_ms: 1500 },
      faults: [{ kind: 'latency', ms: 60_000, times: Infinity }],
    });
    expect(result.code).toBe(1);
    expect(traceOf(result.messages)).toMatchObject({ failure_type: 'transient_error', message: expect.stringMatching(/did not answer .* in time.*gave up after/) });
    // Bounded by the settings, not by the 60 s the server would take.
    expect(Date.now() - started).toBeLessThan(45_000);
  });

  it('stops cleanly at the daily limit: committed work checkpointed, TRACE transient_error says when to retry; a rerun finishes', async () => {
    const { result, rows, crm, config, input } = await run(scenario, {
      rows: 1000,
      pace: { maxRequests: 2, intervalMs: 200 },
      faults: [{ kind: 'rate-limited', policy: 'daily', every: 4, times: 1 }],
    });
    expect(result.code).toBe(1);
    expect(traceOf(result.messages)).toMatchObject({ failure_type: 'transient_error', message: expect.stringMatching(/daily API (request )?limit.*rerun (after|once)/i) });
    const { through, records } = echoedStates(result.messages);
    expect(through).toEqual(allStates(1000, 100).slice(0, through.length));
    expect(through.length).toBeGreaterThan(0);
    expect(through.length).toBeLessThan(10);
    expect(records).toBe(through.at(-1)! + 1);
    const held = crm.state().byKey;
    for (const row of rows.slice(0, records)) expect(held.has(crm.key(row))).toBe(true);

    const rerun = await runCli(['write', '--config', config], { stdin: input });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
  });

  it('refreshes an OAuth token that expires mid-run, once, and goes on', async () => {
    const { result, rows, crm } = await run(scenario, {
      rows: 600, start: { oauth: true },
      faults: [{ kind: 'expire-token', every: 3, times: 1 }],
    });
    expect(result.code, result.stderr).toBe(0);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    // Every batch in flight with the old token is refused; the token is refreshed once for all.
    expect(crm.requests().filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(1);
    expect(crm.requests().filter((r) => r.target === 'auth')).toHaveLength(2);
    expect(summaryRow(result.stderr, 'invoices')).toMatchObject({ received: 600, created: 600 });
  });

  it('gives up with a config error when a refreshed OAuth token is refused too', async () => {
    const { result, crm } = await run(scenario, { start: { oauth: true }, faults: [{ kind: 'refused', status: 401, times: 2 }] });
    expect(result.code).toBe(1);
    expect(traceOf(result.messages)).toMatchObject({ failure_type: 'config_error', message: expect.stringContaining('even after refreshing') });
    expect(crm.requests().filter((r) => r.target === 'auth')).toHaveLength(2);
  });

  it('stops at once with a config error when a fixed token is refused mid-run', async () => {
    const { result, crm } = await run(scenario, { rows: 300, start: { fixedToken: true }, faults: [{ kind: 'refused', status: 401, every: 2, times: 1 }] });
    expect(result.code).toBe(1);
    expect(traceOf(result.messages)?.failure_type).toBe('config_error');
    expect(crm.requests().filter((r) => r.status === 401)).toHaveLength(1);
  });
});
