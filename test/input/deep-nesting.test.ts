// One value nested 10,000 levels deep rejects its row only (too_deep): no code path recurses on
// the structure of input, so the other rows land and their states go out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { byType, runCli, summaryOf } from '../support/run-cli.ts';
import { mergeConfig } from './support.ts';
import { hubspotConfig, invoiceRows, startEmulator, UPSERT_BY_NUMBER } from '../hubspot/support.ts';

const LEVELS = 10_000;
const deepArray = '['.repeat(LEVELS) + ']'.repeat(LEVELS);
const deepObject = '{"a":'.repeat(LEVELS) + '1' + '}'.repeat(LEVELS);

let emulator: HubSpotEmulator;
beforeEach(async () => { emulator = await startEmulator(); });
afterEach(async () => { await emulator.close(); });

const record = (data: unknown) => JSON.stringify({ type: 'RECORD', record: { stream: 'invoices', emitted_at: 0, data } });
/** A RECORD whose data holds `nested` (JSON text) in a mapped column. */
const deepRecord = (key: string, nested: string) => `{"type":"RECORD","record":{"stream":"invoices","emitted_at":0,"data":{"invoice_id":"${key}","customer_email":${nested}}}}`;
const state = (n: number) => JSON.stringify({ type: 'STATE', state: { type: 'LEGACY', data: { n } } });

describe('a deeply nested value', () => {
  it('rejects that row only (too_deep): the 300 good rows land and every state goes out', async () => {
    const { dir, path } = hubspotConfig(emulator, { stream: 'invoices', ...UPSERT_BY_NUMBER });
    const rejectedPath = join(dir, 'rejected.jsonl');
    mergeConfig(path, { rejected_records_path: rejectedPath });
    const rows = invoiceRows(300).map(record);
    const input = [
      ...rows.slice(0, 100), deepRecord('INV-DEEP-1', deepArray), state(1),
      ...rows.slice(100, 200), deepRecord('INV-DEEP-2', deepObject), state(2),
      ...rows.slice(200), `{"type":"STATE","state":{"type":"LEGACY","data":${deepObject}}}`, state(3),
    ];
    const run = await runCli(['write', '--config', path], { stdin: input });
    expect(run.code, run.stderr).toBe(0);
    expect(emulator.records('invoices')).toHaveLength(300);
    expect(byType(run.messages, 'STATE').map((m) => m.state.data.n)).toEqual([1, 2, 3]);
    const rejected = readFileSync(rejectedPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(rejected.map((r) => [r.line, r.code])).toEqual([[101, 'too_deep'], [203, 'too_deep'], [305, 'too_deep']]);
    expect(rejected[0].raw).toContain('"invoice_id":"INV-DEEP-1"');
    expect(summaryOf(run.stderr).total).toMatchObject({ created: 300, rejected: 3 });
  });

  it('Singer and bare JSONL: the same row-level rejection', async () => {
    const { path } = hubspotConfig(emulator, UPSERT_BY_NUMBER);
    const singer = [
      JSON.stringify({ type: 'RECORD', stream: 'invoices', record: invoiceRows(1)[0] }),
      `{"type":"RECORD","stream":"invoices","record":{"invoice_id":"INV-DEEP","tags":${deepArray}}}`,
      JSON.stringify({ type: 'STATE', value: { done: true } }),
    ];
    const run = await runCli(['--config', path], { stdin: singer, output: 'singer' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.messages).toEqual([{ done: true }]);
    const bare = [JSON.stringify(invoiceRows(2)[1]), `{"invoice_id":"INV-DEEP","tags":${deepObject}}`];
    const second = await runCli(['write', '--config', path, '--input-format', 'jsonl'], { stdin: bare });
    expect(second.code, second.stderr).toBe(0);
    expect(emulator.records('invoices').map((r) => r.properties.invoice_number).sort()).toEqual(['INV-00000', 'INV-00001']);
    expect(second.stderr).toMatch(/rejected line 2: too_deep/);
  });
});
