// Ephemeral containers sharing one PostgreSQL store (state.url): each run starts in a fresh
// working directory, as an Airbyte pod or a CronJob does, and they behave as runs on one SQLite
// file would. The second run sends nothing; a complete run's departures are handled once; a
// concurrent run is refused; a run killed with SIGKILL leaves nothing duplicated or missing.
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempDir, type CliRun } from '../support/run-cli.ts';
import { SUPERUSER_PASSWORD, usePostgres } from '../support/postgres.ts';
import { airbyteInput, allStates, CRM_SCENARIOS, echoedStates, hubspotScenario, type CrmUnderTest, type SyncMode } from './crm-scenarios.ts';
import { startCli, until } from './live-cli.ts';

const postgres = usePostgres();
let schemas = 0;
let crm: CrmUnderTest | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

/** A config in a directory of its own (a new container) whose store is the shared schema. */
function container(url: string, mode: SyncMode = 'upsert'): string {
  return crm!.writeConfig(tempDir(), mode, { stream: 'invoices', config: { state: { url } } });
}

function sharedStore(): string {
  return postgres().url({ query: `schema=runs_${++schemas}` });
}

const writes = () => crm!.requests().filter((r) => r.target === 'write').length;

function expectNoPassword(run: Pick<CliRun, 'stdout' | 'stderr'>): void {
  expect(run.stdout + run.stderr).not.toContain(SUPERUSER_PASSWORD);
}

describe('runs in fresh containers sharing a PostgreSQL store', () => {
  it('the second sends nothing; a complete run reports the rows that left once', async () => {
    crm = await hubspotScenario.start();
    const url = sharedStore();
    const rows = crm.rows(100);
    const first = await runCli(['write', '--config', container(url)], { stdin: airbyteInput('invoices', rows, 50) });
    expect(first.code, first.stderr).toBe(0);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    const writesAfterFirst = writes();

    const second = await runCli(['write', '--config', container(url)], { stdin: airbyteInput('invoices', rows, 50) });
    expect(second.code, second.stderr).toBe(0);
    expect(writes()).toBe(writesAfterFirst);
    expect(echoedStates(second.messages).through).toEqual(allStates(100, 50));

    const complete = await runCli(['write', '--config', container(url), '--complete'], { stdin: airbyteInput('invoices', rows.slice(0, 80), 40) });
    expect(complete.code, complete.stderr).toBe(0);
    expect(complete.stderr).toContain('20 record(s) left the segment');
    const again = await runCli(['write', '--config', container(url), '--complete'], { stdin: airbyteInput('invoices', rows.slice(0, 80), 40) });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('left the segment');
    expect(writes()).toBe(writesAfterFirst);
    [first, second, complete, again].forEach(expectNoPassword);
  });

  it('a run while another holds the store stops before any CRM call, naming the store without its password', async () => {
    crm = await hubspotScenario.start();
    const url = sharedStore();
    const first = startCli(['write', '--config', container(url)], airbyteInput('invoices', crm.rows(100), 50), {}, { keepStdinOpen: true });
    await until(() => first.stdout().includes('"through":99'), 'the first run wrote its rows');
    const requestsBefore = crm.requests().length;

    const second = await runCli(['write', '--config', container(url)], { stdin: airbyteInput('invoices', crm.rows(10, 500), 50) });
    expect(second.code).toBe(1);
    const error = second.messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR')?.trace.error;
    expect(error.failure_type).toBe('config_error');
    expect(error.message).toMatch(/another run is using the state store at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres\?schema=runs_\d+ \(pid \d+ on host /);
    expect(second.messages.filter((m) => m.type === 'STATE')).toEqual([]);
    expect(crm.requests().length).toBe(requestsBefore);
    expectNoPassword(second);

    first.child.stdin.end();
    const finished = await first.done;
    expect(finished.code, finished.stderr).toBe(0);
  });

});

describe.each(CRM_SCENARIOS)('$name: a run on a PostgreSQL store', (scenario) => {
  it('killed with SIGKILL mid-run, a rerun in a new container leaves every row exactly once', async () => {
    crm = await scenario.start();
    const url = sharedStore();
    const rows = crm.rows(600);
    const input = airbyteInput('invoices', rows, 50);
    // Half the input, the source still sending, creates slow: killed with its later creates in flight.
    crm.inject([{ on: 'write', kind: 'latency', ms: 200 }]);
    const killed = startCli(['write', '--config', container(url, 'insert')], airbyteInput('invoices', rows.slice(0, 300), 50), { CRM_ACTIVATE_TEST_HEARTBEAT_MS: '200' }, { keepStdinOpen: true });
    await until(() => killed.stdout().includes('"through":199'), 'the run wrote some of its rows');
    killed.child.kill('SIGKILL');
    crm.clearFaults();
    expect((await killed.done).signal).toBe('SIGKILL');

    const rerun = await runCli(['write', '--config', container(url, 'insert')], { stdin: input, env: { CRM_ACTIVATE_TEST_HEARTBEAT_MS: '200' } });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`was held by a run that is gone (pid ${killed.child.pid} on host ${hostname()}`);
    expect(crm.state().duplicates).toEqual([]);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    expectNoPassword(rerun);
  });
});
