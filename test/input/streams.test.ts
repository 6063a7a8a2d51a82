// An `objects` entry without `stream` takes the input's single stream, not every stream: rows of
// another stream are rejected `unknown_stream`, with one warning per stream naming it.
import { describe, expect, it } from 'vitest';
import { byType, runCli, summaryOf, writeJson } from '../support/run-cli.ts';
import { lines, memorySetup } from './support.ts';

const OBJECTS = { customers: { id: 'string', email: 'string' } } as const;
/** Warnings about a stream, apart from the per-row rejection lines (logged for the first 20 rows). */
const streamWarnings = (stderr: string, stream: string) => stderr.split('\n')
  .filter((line) => line.startsWith('crm-activate: WARN') && !line.includes('WARN rejected line') && line.includes(`"${stream}"`));

const NO_STREAM = { object: 'customers', mode: 'upsert', match: { source: 'id', destination: 'id' } };

describe('an objects entry without stream', () => {
  it('Singer: takes the first stream; another stream is rejected unknown_stream with one warning naming it', async () => {
    const setup = memorySetup([NO_STREAM], OBJECTS);
    const input = lines([
      { type: 'RECORD', stream: 'customers', record: { id: 'c1', email: 'c1@example.com' } },
      { type: 'RECORD', stream: 'audit_log', record: { id: 'a1', email: 'intruder@example.com' } },
      { type: 'RECORD', stream: 'customers', record: { id: 'c2', email: 'c2@example.com' } },
      { type: 'RECORD', stream: 'audit_log', record: { id: 'a2', email: 'intruder@example.com' } },
      { type: 'STATE', value: { done: 1 } },
    ]);
    const run = await runCli(['--config', setup.config], { entry: 'memory', env: setup.env, stdin: input, output: 'singer' });
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(setup.crm().records.customers).sort()).toEqual(['c1', 'c2']);
    expect(setup.rejected().map((r) => [r.line, r.stream, r.code])).toEqual([[2, 'audit_log', 'unknown_stream'], [4, 'audit_log', 'unknown_stream']]);
    const warnings = streamWarnings(run.stderr, 'audit_log');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"customers"');
    expect(run.messages).toEqual([{ done: 1 }]);
  });

  it('Airbyte: the same, stream by stream; the STATE still goes out once every row is settled', async () => {
    const setup = memorySetup([NO_STREAM], OBJECTS);
    const record = (stream: string, id: string) => ({ type: 'RECORD', record: { stream, emitted_at: 0, data: { id, email: `${id}@example.com` } } });
    const input = lines([record('customers', 'c1'), record('audit_log', 'a1'), record('audit_log', 'a2'), record('events', 'e1'),
      { type: 'STATE', state: { type: 'LEGACY', data: { n: 1 } } }]);
    const run = await runCli(['write', '--config', setup.config], { entry: 'memory', env: setup.env, stdin: input });
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(setup.crm().records.customers)).toEqual(['c1']);
    expect(setup.rejected().map((r) => r.code)).toEqual(['unknown_stream', 'unknown_stream', 'unknown_stream']);
    expect(streamWarnings(run.stderr, 'audit_log')).toHaveLength(1);
    expect(streamWarnings(run.stderr, 'events')).toHaveLength(1);
    expect(byType(run.messages, 'STATE')).toHaveLength(1);
    expect(summaryOf(run.stderr).total).toMatchObject({ received: 4, created: 1, rejected: 3 });
  });

  it('with an Airbyte catalog: takes the catalog\'s first stream; another catalog stream is not written into its object', async () => {
    const setup = memorySetup([NO_STREAM], OBJECTS);
    const catalog = writeJson(setup.dir, 'catalog.json', {
      streams: ['customers', 'audit_log'].map((name) => ({
        stream: { name, json_schema: {}, supported_sync_modes: ['incremental'] },
        sync_mode: 'incremental', destination_sync_mode: 'append_dedup', primary_key: [['id']],
      })),
    });
    const record = (stream: string, id: string) => ({ type: 'RECORD', record: { stream, emitted_at: 0, data: { id } } });
    const input = lines([record('customers', 'c1'), record('audit_log', 'a1'), { type: 'STATE', state: { type: 'LEGACY', data: { n: 1 } } }]);
    const run = await runCli(['write', '--config', setup.config, '--catalog', catalog], { entry: 'memory', env: setup.env, stdin: input });
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(setup.crm().records.customers)).toEqual(['c1']);
    expect(setup.rejected().map((r) => [r.stream, r.code])).toEqual([['audit_log', 'stream_not_configured']]);
    expect(run.stderr).toContain('catalog stream "audit_log" has no destination_object_name');
  });

  it('bare JSONL rows (no stream) still go to the single entry', async () => {
    const setup = memorySetup([NO_STREAM], OBJECTS);
    const run = await runCli(['write', '--config', setup.config], { entry: 'memory', env: setup.env, stdin: lines([{ id: 'c1', email: 'x@example.com' }, { id: 'c2' }]) });
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(setup.crm().records.customers).sort()).toEqual(['c1', 'c2']);
  });
});
