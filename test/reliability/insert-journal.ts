// Inserts matched by a key field that holds no unique values: the CRM cannot refuse a second
// record for the same key, so only the store's create journal prevents one. A run killed with
// SIGKILL at several moments (creates in flight landing after the kill, answered but not
// recorded, not yet sent), then rerun with the same input: every row exactly once. The same when
// the store was lost between runs (its marker says an earlier run wrote the object).
// One test file per CRM (insert-journal-*.test.ts), so the two run in parallel.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../emulators/salesforce/index.ts';
import { runCli, tempDir, writeJson, type CliRun } from '../support/run-cli.ts';
import { SALESFORCE_CLIENT } from './crm-scenarios.ts';
import { startCli, until } from './live-cli.ts';
import { usePostgres } from '../support/postgres.ts';

const ROWS = 1200;
const STATUSES = ['open', 'paid', 'void'];
/** The heartbeat bounds when a killed run died; a short one keeps the rerun's wait short. */
const ENV = { CRM_ACTIVATE_TEST_HEARTBEAT_MS: '200' };
const rows = Array.from({ length: ROWS }, (_, n) => ({ invoice_id: `R-${String(n).padStart(5, '0')}`, amount: n, status: STATUSES[n % 3] }));
const input = rows.flatMap((data, i) => {
  const record = JSON.stringify({ type: 'RECORD', record: { stream: 'receipts', data, emitted_at: 1 } });
  if ((i + 1) % 100 !== 0) return [record];
  return [record, JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: 'receipts' }, stream_state: { through: i } } } })];
});
const expected = new Map(rows.map((row) => [row.invoice_id, `${row.amount}/${row.status}`]));

export interface PlainKeyCrm {
  /** dir/config.json; its store in dir, or the given one. */
  writeConfig(dir: string, state?: Record<string, string>): string;
  /** Key → "amount/status" of every record, and the keys held by more than one. */
  contents(): { byKey: Map<string, string>; duplicates: string[] };
  answeredCreates(): number;
  slowDownWrites(): void;
  /** The connection of one create request is cut after the CRM committed it: its answer is lost. */
  cutOneAnswer(): void;
  clearFaults(): void;
  close(): Promise<void>;
}

export async function hubspot(): Promise<PlainKeyCrm> {
  const token = 'pat-na1-journal-test';
  // Search finds a record only 3.5 s after its creation, as HubSpot's index lags: longer than a
  // killed run's requests may take to land (request_timeout_ms 2 s), so only a rerun that allows
  // for the lag itself finds every record that landed.
  const emulator: HubSpotEmulator = await startHubSpotEmulator({
    accessTokens: [token], rateLimit: { max: 100, intervalMs: 1000 }, searchLagMs: 3500,
    schemas: [{
      name: 'receipts', labels: { singular: 'Receipt', plural: 'Receipts' }, requiredProperties: [], associatedObjects: [],
      primaryDisplayProperty: 'reference',
      properties: [
        { name: 'reference', label: 'Reference', type: 'string', fieldType: 'text' },
        { name: 'amount', label: 'Amount', type: 'number', fieldType: 'number' },
        { name: 'status', label: 'Status', type: 'string', fieldType: 'text' },
      ],
    }],
  });
  return {
    writeConfig: (dir, state) => writeJson(dir, 'config.json', {
      crm: { type: 'hubspot', access_token: token, base_url: emulator.url, request_timeout_ms: 2000, rate_limit: { max_requests: 20, interval_ms: 1000 } },
      objects: [{
        stream: 'receipts', object: 'receipts', mode: 'insert', match: { source: 'invoice_id', destination: 'reference' },
        fields: [{ source: 'amount', destination: 'amount' }, { source: 'status', destination: 'status' }],
      }],
      state: state ?? { path: `${dir}/state.db` },
    }),
    contents: () => contentsOf(emulator.records('receipts').map((r) => [r.properties.reference, `${r.properties.amount}/${r.properties.status}`])),
    answeredCreates: () => emulator.requests.filter((r) => r.path.endsWith('/batch/create') && r.status !== 0).length,
    slowDownWrites: () => emulator.injectFaults([{ kind: 'latency', ms: 300, match: { pathMatches: '/batch/create$' } }]),
    cutOneAnswer: () => emulator.injectFaults([{ kind: 'reset-after', match: { pathMatches: '/batch/create$' }, every: 3, times: 1 }]),
    clearFaults: () => emulator.clearFaults(),
    close: () => emulator.close(),
  };
}

export async function salesforce(): Promise<PlainKeyCrm> {
  const emulator: SalesforceEmulator = await startSalesforceEmulator({
    clients: [SALESFORCE_CLIENT],
    objects: [{
      name: 'Receipt__c', label: 'Receipt',
      fields: [
        { name: 'Reference__c', label: 'Reference', type: 'string', length: 40 },
        { name: 'Amount__c', label: 'Amount', type: 'double', precision: 18, scale: 0 },
        { name: 'Status__c', label: 'Status', type: 'string', length: 20 },
      ],
    }],
  });
  return {
    writeConfig: (dir, state) => writeJson(dir, 'config.json', {
      crm: {
        type: 'salesforce', login_url: emulator.url, api: 'rest', request_timeout_ms: 2000,
        auth: { type: 'client_credentials', client_id: SALESFORCE_CLIENT.clientId, client_secret: SALESFORCE_CLIENT.clientSecret },
      },
      objects: [{
        stream: 'receipts', object: 'Receipt__c', mode: 'insert', match: { source: 'invoice_id', destination: 'Reference__c' },
        fields: [{ source: 'amount', destination: 'Amount__c' }, { source: 'status', destination: 'Status__c' }],
      }],
      state: state ?? { path: `${dir}/state.db` },
    }),
    contents: () => contentsOf(emulator.records('Receipt__c').map((r) => [String(r.Reference__c), `${r.Amount__c}/${r.Status__c}`])),
    answeredCreates: () => emulator.requests.filter((r) => r.path.includes('/composite/sobjects') && r.status !== 0).length,
    slowDownWrites: () => emulator.injectFaults([{ kind: 'latency', ms: 300, match: { pathMatches: '/composite/sobjects' } }]),
    cutOneAnswer: () => emulator.injectFaults([{ kind: 'reset-after', match: { pathMatches: '/composite/sobjects' }, every: 3, times: 1 }]),
    clearFaults: () => emulator.clearFaults(),
    close: () => emulator.close(),
  };
}

function contentsOf(records: [string, string][]): { byKey: Map<string, string>; duplicates: string[] } {
  const byKey = new Map<string, string>();
  const duplicates: string[] = [];
  for (const [key, values] of records) {
    if (byKey.has(key)) duplicates.push(key);
    byKey.set(key, values);
  }
  return { byKey, duplicates };
}

let crm: PlainKeyCrm | undefined;

/** Reruns with the whole input: it succeeds and the CRM holds every row exactly once, with its values. */
async function rerunLeavesEveryRowOnce(config: string): Promise<CliRun> {
  const rerun = await runCli(['write', '--config', config], { stdin: input, env: ENV });
  expect(rerun.code, rerun.stderr).toBe(0);
  const { byKey, duplicates } = crm!.contents();
  expect(duplicates).toEqual([]);
  expect(byKey).toEqual(expected);
  return rerun;
}

/** The cases, against one CRM. */
export function insertJournalTests(name: string, start: () => Promise<PlainKeyCrm>): void {
  afterEach(async () => {
    await crm?.close();
    crm = undefined;
  });

  describe(`${name} insert by a key field without unique values`, () => {
    it.each([1, 3, 5])('killed with SIGKILL after %i answered create request(s), a rerun leaves every row exactly once', async (answered) => {
      crm = await start();
      const config = crm.writeConfig(tempDir());
      // Slow answers: when the kill lands, some creates are in flight and land after it.
      crm.slowDownWrites();
      const first = startCli(['write', '--config', config], input, ENV);
      await until(() => crm!.answeredCreates() >= answered, `${answered} create request(s) answered`);
      first.child.kill('SIGKILL');
      expect((await first.done).signal).toBe('SIGKILL');
      crm.clearFaults();

      const rerun = await rerunLeavesEveryRowOnce(config);
      expect(rerun.stderr).toMatch(/create\(s\) an earlier run sent \(or was about to send\) were never recorded; looked up by \w+: \d+ had landed/);
    });
  });

  const postgres = usePostgres();
  describe(`${name} insert by a key field without unique values, its store in PostgreSQL`, () => {
    it('killed with SIGKILL mid-run, a rerun in a fresh container leaves every row exactly once', async () => {
      crm = await start();
      const state = { url: postgres().url({ query: `schema=journal_${name.toLowerCase()}` }) };
      crm.slowDownWrites();
      const first = startCli(['write', '--config', crm.writeConfig(tempDir(), state)], input, ENV);
      await until(() => crm!.answeredCreates() >= 3, '3 create requests answered');
      first.child.kill('SIGKILL');
      expect((await first.done).signal).toBe('SIGKILL');
      crm.clearFaults();

      const rerun = await rerunLeavesEveryRowOnce(crm.writeConfig(tempDir(), state));
      expect(rerun.stderr).toMatch(/create\(s\) an earlier run sent \(or was about to send\) were never recorded; looked up by \w+: \d+ had landed/);
    });
  });

  describe(`${name} insert whose answer was lost`, () => {
    it('reports the rows as unknown_outcome; the rerun finds them by the key field and creates none twice', async () => {
      crm = await start();
      const config = crm.writeConfig(tempDir());
      crm.cutOneAnswer();
      const first = await runCli(['write', '--config', config], { stdin: input, env: ENV });
      expect(first.code).toBe(1);
      const error = first.messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR')?.trace.error;
      expect(error).toMatchObject({ failure_type: 'transient_error', message: expect.stringMatching(/row\(s\) may or may not have been written/) });
      expect(first.stderr).toMatch(/unknown_outcome: .*a rerun (searches|queries) \w+ for it before sending anything \(the store's create journal\), so it is not created twice/);
      crm.clearFaults();

      await rerunLeavesEveryRowOnce(config);
    });
  });

  describe(`${name} insert whose state store vanished between runs`, () => {
    it('the next run says so, looks every row up before creating it, and creates none twice', async () => {
      crm = await start();
      const dir = tempDir();
      const config = crm.writeConfig(dir);
      const firstHalf = input.slice(0, input.length / 2);
      const first = await runCli(['write', '--config', config], { stdin: firstHalf, env: ENV });
      expect(first.code, first.stderr).toBe(0);
      for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `state.db${suffix}`), { force: true });

      const rerun = await rerunLeavesEveryRowOnce(config);
      expect(rerun.stderr).toMatch(/holds nothing of \w+, which an earlier run wrote \(per .*state\.db\.id\): the store was lost or replaced; every row is looked up by \w+ before it is created/);
    });
  });
}
