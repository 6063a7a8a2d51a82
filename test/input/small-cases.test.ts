// Smaller input cases of issue 12: a whitespace-only key, the raw text of a line that is not
// JSON, and the ignored-columns warning that must not name the key column (sent as the match key).
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.ts';
import { lines, memorySetup, onlyObjectCounts } from './support.ts';

const CUSTOMERS = { customers: { email: 'string', score: 'number' } } as const;
const BY_ID = { stream: 'customers', object: 'customers', mode: 'upsert', match: { source: 'id', destination: 'email' } };

describe('input rows that look almost right', () => {
  it('rejects a key made only of whitespace as missing_key, like an empty one', async () => {
    const setup = memorySetup([BY_ID], CUSTOMERS);
    const input = lines([
      { type: 'RECORD', stream: 'customers', record: { id: '   ', email: 'blank@example.com' } },
      { type: 'RECORD', stream: 'customers', record: { id: '\t\n', email: 'tab@example.com' } },
      { type: 'RECORD', stream: 'customers', record: { id: 'c1', email: 'c1@example.com' } },
    ]);
    const run = await runCli(['write', '--config', setup.config], { entry: 'memory', env: setup.env, stdin: input });
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(setup.crm().records.customers)).toEqual(['c1']);
    expect(setup.rejected().map((r) => [r.line, r.code, r.field])).toEqual([[1, 'missing_key', 'id'], [2, 'missing_key', 'id']]);
  });

  it('keeps the raw text of a line that is not JSON in the rejected-rows file, truncated past 64 KiB', async () => {
    const setup = memorySetup([BY_ID], CUSTOMERS);
    const broken = '{"type":"RECORD","stream":"customers","record":{"id":"c2",';
    const huge = `{"id":"c3","email":"${'x'.repeat(100 * 1024)}`;
    const input = lines([{ type: 'RECORD', stream: 'customers', record: { id: 'c1', email: 'c1@example.com' } }, broken, huge]);
    const run = await runCli(['write', '--config', setup.config], { entry: 'memory', env: setup.env, stdin: input });
    expect(run.code, run.stderr).toBe(0);
    const [short, long] = setup.rejected();
    expect(short).toMatchObject({ line: 2, code: 'malformed_json', row: null, raw: broken });
    expect(short.raw_truncated).toBeUndefined();
    expect(long).toMatchObject({ line: 3, code: 'malformed_json', row: null, raw_truncated: true });
    expect(long.raw).toBe(huge.slice(0, 64 * 1024));
  });

  it('does not list the key column among the columns with no writable field: it was sent as the match key', async () => {
    const setup = memorySetup([BY_ID], CUSTOMERS);
    const input = lines([{ type: 'RECORD', stream: 'customers', record: { id: 'c1', email: 'c1@example.com', score: 3, nickname: 'cc' } }]);
    const run = await runCli(['write', '--config', setup.config], { entry: 'memory', env: setup.env, stdin: input });
    expect(run.code, run.stderr).toBe(0);
    expect(onlyObjectCounts(run.stderr)).toMatchObject({ received: 1, created: 1 });
    const warning = run.stderr.split('\n').find((line) => line.includes('columns with no writable field'));
    expect(warning).toMatch(/were not sent: nickname$/);
  });
});
