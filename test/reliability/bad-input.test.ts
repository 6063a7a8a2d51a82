// Every kind of bad line in one Airbyte input (test/fixtures/bad-input): each is rejected with
// its line number and reason in the rejected-rows file, counted in its stream's STATE, and the
// run goes on: the good rows land and the exit code is 0.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { byType, runCli, summaryOf, tempDir, writeJson } from '../support/run-cli.ts';
import { CRM_SCENARIOS, type CrmUnderTest } from './crm-scenarios.ts';

const fixtureDir = join(import.meta.dirname, '../fixtures/bad-input');
const expected = JSON.parse(readFileSync(join(fixtureDir, 'expected.json'), 'utf8')) as {
  rejected: { line: number; code: string | null; field?: string }[];
  loaded: string[];
  states: { stream: string; through: string; recordCount: number; rejectedRecordCount: number }[];
};

/** The corpus, with its placeholder line replaced by a RECORD of 10 MB. */
function corpus(): Buffer {
  const tenMegabytes = JSON.stringify({
    type: 'RECORD',
    record: { stream: 'invoices', emitted_at: 0, data: { invoice_id: 'INV-B13', amount: 1, status: 'open', customer_email: 'x'.repeat(10 * 1024 * 1024) } },
  });
  const raw = readFileSync(join(fixtureDir, 'airbyte.jsonl'));
  const at = raw.indexOf('@@TEN_MEGABYTE_RECORD@@');
  return Buffer.concat([raw.subarray(0, at), Buffer.from(tenMegabytes), raw.subarray(at + '@@TEN_MEGABYTE_RECORD@@'.length)]);
}

let crm: CrmUnderTest | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

describe.each(CRM_SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s: the bad-input corpus', (_name, scenario) => {
  it('rejects each bad line with its line and reason, counts it in the states, and loads the good rows', async () => {
    crm = await scenario.start();
    const dir = tempDir();
    const rejectedPath = join(dir, 'rejected.jsonl');
    const config = crm.writeConfig(dir, 'upsert', { stream: 'invoices', config: { rejected_records_path: rejectedPath } });
    const catalog = writeJson(dir, 'catalog.json', {
      streams: ['invoices', 'orphans'].map((name) => ({
        stream: { name, json_schema: {}, supported_sync_modes: ['incremental'] },
        sync_mode: 'incremental', destination_sync_mode: 'append_dedup', primary_key: [['invoice_id']],
      })),
    });
    const run = await runCli(['write', '--config', config, '--catalog', catalog], { stdin: corpus() });
    expect(run.code, run.stderr).toBe(0);

    const rejected = readFileSync(rejectedPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const byLine = new Map(rejected.map((r) => [r.line, r]));
    expect([...byLine.keys()].sort((a, b) => a - b)).toEqual(expected.rejected.map((r) => r.line));
    for (const want of expected.rejected) {
      const got = byLine.get(want.line);
      if (want.code) expect(got.code, `line ${want.line}`).toBe(want.code);
      else expect(got.code, `line ${want.line}`).toMatch(/^[A-Za-z_]+$/);
      // A CRM's own code names the CRM's field; the connector's codes name the row's column.
      if (want.field) expect(got.field, `line ${want.line}`).toBe(want.code === null ? crm.fieldName(want.field) : want.field);
      expect(got.message, `line ${want.line}`).not.toBe('');
    }
    expect(byLine.get(20).message).toContain('catalog stream "orphans" has no destination_object_name');
    expect(byLine.get(13).message).toMatch(/the line holds \d+ bytes, more than 8388608/);

    const states = byType(run.messages, 'STATE').map((m) => ({
      stream: m.state.stream.stream_descriptor.name,
      through: m.state.stream.stream_state.through,
      ...m.state.destinationStats,
    }));
    expect(states).toEqual(expected.states);

    const good = expected.loaded.map((key) => {
      const n = Number(key.slice('INV-B'.length));
      // Line 10 repeats INV-B01 with amount 99: the last row of a key wins.
      return { invoice_id: key, amount: key === 'INV-B01' ? 99 : n + 0.5, status: 'open', customer_email: `b${n}@example.com` };
    });
    expect(crm.state().byKey).toEqual(crm.expected(good));
    const summary = summaryOf(run.stderr);
    expect(summary.total).toMatchObject({ received: 19, created: 4, rejected: 14 });
    // Line 1 (INV-B01) is replaced by line 10 while unsent (skipped), or updated by it once written.
    expect(summary.total.skipped + summary.total.updated).toBe(1);
    expect(run.stderr).toContain('catalog stream "orphans" has no destination_object_name');
  });
});
