// The rejected-rows file is the only trace of a row the CRM refused: a later run adds to it and
// never wipes it, and each line says which run it came from.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { airbyteInput, hubspotScenario, type CrmUnderTest } from '../reliability/crm-scenarios.ts';
import { runCli, tempDir } from '../support/run-cli.ts';

let crm: CrmUnderTest | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

const readLines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);

describe('rejected_records_path', () => {
  it('is appended to by each run, every line carrying the start time of the run that rejected it', async () => {
    crm = await hubspotScenario.start();
    const dir = tempDir();
    const rejectedPath = join(dir, 'rejected.jsonl');
    const config = crm.writeConfig(dir, 'upsert', { stream: 'invoices', config: { rejected_records_path: rejectedPath } });
    const rows = crm.rows(10).map((row, i) => (i % 5 === 0 ? { ...row, status: 'not-a-status' } : row));

    const before = new Date().toISOString();
    const first = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 5) });
    expect(first.code, first.stderr).toBe(0);
    const afterFirst = readLines(rejectedPath);
    expect(afterFirst.map((line) => line.key)).toEqual(['INV-000000', 'INV-000005']);
    const firstStart = String(afterFirst[0].run_started_at);
    expect(firstStart >= before.slice(0, 19)).toBe(true);
    expect(afterFirst.every((line) => line.run_started_at === firstStart)).toBe(true);

    const second = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 5) });
    expect(second.code, second.stderr).toBe(0);
    const afterSecond = readLines(rejectedPath);
    // The first run's lines are still there, unchanged, and the second run's follow them.
    expect(afterSecond.slice(0, 2)).toEqual(afterFirst);
    expect(afterSecond.slice(2).map((line) => line.key)).toEqual(['INV-000000', 'INV-000005']);
    expect(afterSecond.slice(2).every((line) => typeof line.run_started_at === 'string' && line.run_started_at >= firstStart)).toBe(true);
  });
});
