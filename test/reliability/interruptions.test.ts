// A run cut short: SIGKILL (nothing gets to clean up) and SIGTERM (in-flight batches finish,
// their states go out). Rerunning with the same input and state store must leave the CRM
// exactly as one clean run would: every row once, with its values.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../support/run-cli.ts';
import { airbyteInput, allStates, CRM_SCENARIOS, echoedStates, type CrmFault, type CrmUnderTest, type SyncMode } from './crm-scenarios.ts';
import { startCli, until } from './live-cli.ts';

const ROWS = 2000;
const STATE_EVERY = 200;

let crm: CrmUnderTest | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

const answeredWrites = (crm: CrmUnderTest) => crm.requests().filter((r) => r.target === 'write' && r.status !== 0).length;

describe.each(CRM_SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s interrupted', (_name, scenario) => {
  it.each(['upsert', 'insert'] as SyncMode[])('%s: killed with SIGKILL mid-run, a rerun converges to the input exactly', async (mode) => {
    crm = await scenario.start();
    const rows = crm.rows(ROWS);
    // Paced to 20 requests a second (where the CRM has a budget to pace to) and slow to answer, so
    // the kill lands with batches in flight (some land after the client is gone) and others not yet sent.
    const config = crm.writeConfig(tempDir(), mode, { stream: 'invoices', pace: { maxRequests: 20, intervalMs: 1000 } });
    const input = airbyteInput('invoices', rows, STATE_EVERY);
    crm.inject([{ kind: 'latency', ms: 300, times: Infinity }]);
    const first = startCli(['write', '--config', config], input);
    await until(() => answeredWrites(crm!) >= 4, 'a few batches are written');
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    const partial = crm.state().byKey.size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(ROWS);

    crm.clearFaults();
    const rerun = await runCli(['write', '--config', config], { stdin: input });
    expect(rerun.code, rerun.stderr).toBe(0);
    const state = crm.state();
    expect(state.duplicates).toEqual([]);
    expect(state.byKey).toEqual(crm.expected(rows));
    expect(echoedStates(rerun.messages).through).toEqual(allStates(ROWS, STATE_EVERY));
  });

  it('SIGTERM: in-flight batches finish, the states of committed rows go out, exit 1; a rerun converges', async () => {
    crm = await scenario.start();
    const rows = crm.rows(ROWS);
    const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices' });
    const input = airbyteInput('invoices', rows, STATE_EVERY);
    crm.inject([{ kind: 'latency', ms: 150, times: Infinity }]);
    const first = startCli(['write', '--config', config], input);
    await until(() => first.stdout().includes('"STATE"'), 'the first state is out');
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.code).toBe(1);
    const trace = stopped.messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR');
    expect(trace?.trace.error).toMatchObject({ failure_type: 'transient_error', message: expect.stringContaining('interrupted (SIGTERM)') });
    expect(stopped.messages.at(-1)?.type).toBe('TRACE');

    // Every echoed state covers rows the CRM holds: a state is a promise that they are committed.
    const { through, records } = echoedStates(stopped.messages);
    expect(through.length).toBeGreaterThan(0);
    expect(through).toEqual(allStates(ROWS, STATE_EVERY).slice(0, through.length));
    expect(records).toBe(through.at(-1)! + 1);
    const held = crm.state().byKey;
    for (const row of rows.slice(0, through.at(-1)! + 1)) expect(held.has(crm.key(row))).toBe(true);

    crm.clearFaults();
    const rerun = await runCli(['write', '--config', config], { stdin: input });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(crm.state().duplicates).toEqual([]);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
  });

  it('SIGTERM during a long Retry-After wait stops at once instead of waiting it out; a rerun converges', async () => {
    crm = await scenario.start();
    const rows = crm.rows(600);
    const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices' });
    const input = airbyteInput('invoices', rows, 100);
    const wait: CrmFault = { kind: 'rate-limited', retryAfterSeconds: 120, every: 3, times: 1 };
    crm.inject([wait]);
    const first = startCli(['write', '--config', config], input);
    // Batches before the throttled one settle while it waits: a state is out, so the check below has rows to check.
    await until(() => crm!.requests().some((r) => r.status === crm!.statusOf(wait)), 'a write is told to wait two minutes');
    await until(() => first.stdout().includes('"STATE"'), 'the states of the batches before it are out');
    const signalledAt = Date.now();
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(Date.now() - signalledAt).toBeLessThan(30_000);
    expect(stopped.code).toBe(1);
    const trace = stopped.messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR');
    expect(trace?.trace.error).toMatchObject({ failure_type: 'transient_error', message: expect.stringContaining('interrupted (SIGTERM)') });
    const { through } = echoedStates(stopped.messages);
    expect(through.length).toBeGreaterThan(0);
    expect(through.length).toBeLessThan(6);
    const held = crm.state().byKey;
    for (const row of rows.slice(0, through.at(-1)! + 1)) expect(held.has(crm.key(row))).toBe(true);

    crm.clearFaults();
    const rerun = await runCli(['write', '--config', config], { stdin: input });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
  });
});
