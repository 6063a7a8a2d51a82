// Thousands of rows through each CRM while its emulator misbehaves: its throttles with and
// without Retry-After (each kind), 5xx, connections reset before and after the CRM committed, slow
// answers. The run must end exactly as a clean one would: the CRM holds the input, no key twice,
// every STATE echoed in order with counts that add up, exit code 0. One test file per CRM,
// faults-*.test.ts, so the two run in parallel.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, summaryRow, tempDir } from '../support/run-cli.ts';
import { airbyteInput, allStates, echoedStates, type CrmScenario, type CrmFault, type CrmUnderTest, type SyncMode } from './crm-scenarios.ts';

/** Write requests per run: the storm's rates are set for it, so every CRM meets it as densely. */
const REQUESTS = 30;
const STATE_EVERY = 250;

/** Every path of the retry logic, several times per run, at rates a 30-batch run meets often. */
const STORM: CrmFault[] = [
  // Random (seeded, so a failure replays): first, so it wins when it fires with another.
  { kind: 'server-error', status: 504, probability: 0.1, times: 3 },
  { kind: 'rate-limited', retryAfterSeconds: 1, every: 9, times: 3 },
  { kind: 'rate-limited', policy: 'window', every: 7, times: 3 },
  { kind: 'rate-limited', policy: 'secondly', every: 13, times: 2 },
  { kind: 'server-error', status: 500, every: 5, times: 2 },
  { kind: 'server-error', status: 503, every: 6, times: 2 },
  { kind: 'reset-before', every: 4, times: 3 },
  { kind: 'reset-after', every: 3, times: 4 },
  { kind: 'latency', ms: 300, every: 2, times: 6 },
  { kind: 'server-error', status: 502, on: 'read', every: 4, times: 2 },
  { kind: 'reset-after', on: 'read', every: 3, times: 2 },
];

let crm: CrmUnderTest | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

async function runUnderFaults(scenario: CrmScenario, mode: SyncMode, count: number) {
  crm = await scenario.start();
  const rows = crm.rows(count);
  if (mode === 'update') crm.seed(rows);
  const dir = tempDir();
  const config = crm.writeConfig(dir, mode, { stream: 'invoices', crm: { request_timeout_ms: 5000 } });
  crm.inject(STORM);
  const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, STATE_EVERY) });
  return { run, rows, crm };
}

/** The storm, against one CRM (one test file per CRM, faults-*.test.ts, so they run in parallel). */
export function faultTests(scenario: CrmScenario): void {
  describe(`${scenario.name} under injected faults`, () => {
    const ROWS = REQUESTS * scenario.rowsPerRequest;
    it.each(['upsert', 'insert', 'update'] as SyncMode[])(`%s: ${ROWS} rows land exactly once, states in order, exit 0`, async (mode) => {
      const { run, rows, crm } = await runUnderFaults(scenario, mode, ROWS);
      expect(run.code, run.stderr).toBe(0);

      const state = crm.state();
      expect(state.duplicates).toEqual([]);
      expect(state.byKey).toEqual(crm.expected(rows));

      const states = echoedStates(run.messages);
      expect(states.through).toEqual(allStates(ROWS, STATE_EVERY));
      expect(states.records).toBe(ROWS);
      expect(states.rejected).toBe(0);

      const counts = summaryRow(run.stderr, 'invoices');
      expect(counts.received).toBe(ROWS);
      expect(counts.created + counts.updated).toBe(ROWS);
      expect(counts.rejected + counts.unknown + counts.skipped + counts.not_found).toBe(0);
      if (mode === 'update') expect(counts.updated).toBe(ROWS);
      if (mode === 'insert') expect(counts.created).toBe(ROWS);

      // The faults really happened: every kind that answers answered at least once.
      const statuses = new Set(crm.requests().map((r) => r.status));
      for (const fault of STORM) if (crm.statusOf(fault) !== 0 && !fault.on) expect(statuses).toContain(crm.statusOf(fault));
      expect(run.messages.some((m) => m.type === 'TRACE' && m.trace.type === 'ERROR')).toBe(false);
    });
  });
}
