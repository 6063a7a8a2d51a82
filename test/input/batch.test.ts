// Singer BATCH messages as the Meltano SDK writes them: a manifest of file:// URLs to JSONL files
// (gzip or not), read in order with the RECORDs around them, checkpointed like RECORDs. Anything
// the connector cannot read stops the run before any STATE after it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { errorTraces, runCli } from '../support/run-cli.ts';
import { lines, memorySetup, onlyObjectCounts } from './support.ts';

const OBJECTS = { customers: { id: 'string', email: 'string', score: 'number' } } as const;
const ENTRY = { stream: 'customers', object: 'customers', mode: 'upsert', match: { source: 'id', destination: 'id' } };

const rows = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: `c${from + i}`, email: `c${from + i}@example.com`, score: from + i }));
const jsonlText = (records: unknown[]) => records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
const record = (row: unknown) => ({ type: 'RECORD', stream: 'customers', record: row });
const state = (n: number) => ({ type: 'STATE', value: { n } });
const batch = (manifest: string[], encoding: Record<string, unknown> = { format: 'jsonl', compression: 'gzip' }) => ({ type: 'BATCH', stream: 'customers', encoding, manifest });

function writeBatchFile(dir: string, name: string, records: unknown[], gzip = true): string {
  const path = join(dir, name);
  writeFileSync(path, gzip ? gzipSync(jsonlText(records)) : jsonlText(records));
  return pathToFileURL(path).href;
}

describe('Singer BATCH messages', () => {
  it('writes the rows of every manifest file, in order with the RECORDs around them, before releasing the STATE after them', async () => {
    const setup = memorySetup([ENTRY], OBJECTS);
    const gzipped = writeBatchFile(setup.dir, 'customers-1.jsonl.gz', rows(1, 250));
    const plain = writeBatchFile(setup.dir, 'customers-2.jsonl', rows(251, 50), false);
    const input = lines([
      { type: 'SCHEMA', stream: 'customers', schema: { type: 'object' }, key_properties: ['id'] },
      record(rows(0, 1)[0]), state(1),
      batch([gzipped]),
      state(2),
      batch([plain], { format: 'jsonl', compression: 'none' }),
      record(rows(301, 1)[0]),
      state(3),
    ]);
    const run = await runCli(['--config', setup.config], { entry: 'memory', env: setup.env, stdin: input, output: 'singer' });
    expect(run.code, run.stderr).toBe(0);
    const written = setup.crm().records.customers;
    expect(Object.keys(written)).toHaveLength(302);
    expect(written.c17).toEqual({ id: 'c17', email: 'c17@example.com', score: 17 });
    expect(written.c300).toEqual({ id: 'c300', email: 'c300@example.com', score: 300 });
    expect(run.messages).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(onlyObjectCounts(run.stderr)).toMatchObject({ received: 302, created: 302 });
  });

  it('says which file and line a rejected batch row came from', async () => {
    const setup = memorySetup([ENTRY], OBJECTS);
    const url = writeBatchFile(setup.dir, 'with-bad-rows.jsonl.gz', [rows(1, 1)[0], { email: 'nokey@example.com' }, '{"id": "c3",', { id: 'c4', score: 'many' }]);
    const run = await runCli(['--config', setup.config], { entry: 'memory', env: setup.env, stdin: lines([batch([url]), state(1)]), output: 'singer' });
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(setup.crm().records.customers)).toEqual(['c1']);
    expect(setup.rejected().map((r) => [r.line, r.file, r.file_line, r.code])).toEqual([
      [1, url, 2, 'missing_key'],
      [1, url, 3, 'malformed_json'],
      [1, url, 4, 'INVALID_NUMBER'],
    ]);
    expect(run.messages).toEqual([{ n: 1 }]);
  });

  it('reads a file a line at a time: a row past the line limit is rejected, the rows around it land', async () => {
    const setup = memorySetup([ENTRY], OBJECTS);
    const url = writeBatchFile(setup.dir, 'long.jsonl.gz', [rows(1, 1)[0], { id: 'big', email: 'x'.repeat(9 * 1024 * 1024) }, rows(2, 1)[0]]);
    const run = await runCli(['--config', setup.config], { entry: 'memory', env: setup.env, stdin: lines([batch([url]), state(1)]), output: 'singer' });
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(setup.crm().records.customers).sort()).toEqual(['c1', 'c2']);
    expect(setup.rejected().map((r) => [r.file_line, r.code])).toEqual([[2, 'line_too_long']]);
  });

  const fatal: [string, (dir: string) => Record<string, unknown>, RegExp][] = [
    ['an s3:// manifest', () => batch(['s3://bucket/customers-1.jsonl.gz']), /s3:\/\/bucket\/customers-1\.jsonl\.gz/],
    ['an http:// manifest', () => batch(['http://example.com/customers.jsonl']), /http:\/\/example\.com\/customers\.jsonl/],
    ['the parquet format', (dir) => batch([writeBatchFile(dir, 'x.parquet', rows(5, 1))], { format: 'parquet', compression: 'gzip' }), /parquet/],
    ['an unknown compression', (dir) => batch([writeBatchFile(dir, 'x.jsonl.zst', rows(5, 1))], { format: 'jsonl', compression: 'zstd' }), /zstd/],
    ['a gzip file said to be uncompressed', (dir) => batch([writeBatchFile(dir, 'secretly.jsonl.gz', rows(5, 3))], { format: 'jsonl', compression: 'none' }), /secretly\.jsonl\.gz.*gzip-compressed/],
    ['a missing file', (dir) => batch([pathToFileURL(join(dir, 'gone.jsonl.gz')).href]), /gone\.jsonl\.gz/],
    // A device or a pipe would never end (or block forever): only regular files are read.
    ['a device', () => batch(['file:///dev/zero'], { format: 'jsonl', compression: 'none' }), /\/dev\/zero.*not a regular file/],
    ['a directory', (dir) => batch([pathToFileURL(dir).href], { format: 'jsonl', compression: 'none' }), /not a regular file/],
    ['a corrupt gzip file', (dir) => {
      const path = join(dir, 'corrupt.jsonl.gz');
      writeFileSync(path, gzipSync(jsonlText(rows(5, 20))).subarray(0, 40));
      return batch([pathToFileURL(path).href]);
    }, /corrupt\.jsonl\.gz/],
  ];

  it.each(fatal)('%s stops the run with a config error naming it, and no STATE after it goes out', async (_name, makeBatch, named) => {
    const setup = memorySetup([ENTRY], OBJECTS);
    const good = writeBatchFile(setup.dir, 'good.jsonl.gz', rows(100, 3));
    const input = lines([record(rows(0, 1)[0]), state(1), batch([good]), makeBatch(setup.dir), record(rows(1, 1)[0]), state(2)]);
    const run = await runCli(['--config', setup.config], { entry: 'memory', env: setup.env, stdin: input, output: 'singer' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/config error: .*BATCH/);
    expect(run.stderr).toMatch(named);
    // STATE 1 may go out (its row is written); nothing after the BATCH may.
    expect(run.messages.filter((m) => m.n !== 1)).toEqual([]);
    const written = Object.keys(setup.crm().records.customers ?? {});
    expect(written).not.toContain('c1');
  });

  it('Airbyte output: the same stop is a config_error TRACE and no STATE after the BATCH', async () => {
    const setup = memorySetup([ENTRY], OBJECTS);
    const input = lines([record(rows(0, 1)[0]), state(1), batch(['s3://bucket/x.jsonl.gz']), state(2)]);
    const run = await runCli(['write', '--config', setup.config, '--input-format', 'singer'], { entry: 'memory', env: setup.env, stdin: input });
    expect(run.code).toBe(1);
    expect(errorTraces(run.messages)[0].trace.error).toMatchObject({ failure_type: 'config_error' });
    expect(run.messages.filter((m) => m.type === 'STATE' && m.state.data.n !== 1)).toEqual([]);
  });

  it('--about advertises the batch capability and the batch_config setting Meltano knows', async () => {
    const run = await runCli(['--about', '--format', 'json'], { output: 'singer' });
    expect(run.code, run.stderr).toBe(0);
    const [about] = run.messages;
    expect(about.capabilities).toContain('batch');
    const batchConfig = about.settings.properties.batch_config;
    expect(batchConfig.type).toBe('object');
    expect(batchConfig.properties.encoding.properties.format.enum).toEqual(['jsonl']);
    expect(batchConfig.properties.encoding.properties.compression.enum).toEqual(['gzip', 'none']);
    expect(Object.keys(batchConfig.properties.storage.properties)).toEqual(['root', 'prefix']);
  });
});
