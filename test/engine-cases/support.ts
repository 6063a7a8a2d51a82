// Shared set-up for the issue-12 engine cases: the real CLI wired to the in-memory CRM, a config
// for one invoices object, and builders for Singer and Airbyte input.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, writeJson, type CliOptions } from '../support/run-cli.ts';
import type { MemoryBehaviour, MemoryDump } from '../support/memory-destination.ts';
import type { ObjectWriter } from '../../src/crm/destination.ts';

export const INVOICE_FIELDS = { invoice_id: 'string', amount: 'number', status: 'string' } as const;

export function memoryWorkspace(objectEntry: Record<string, unknown> = {}, behaviour: Partial<MemoryBehaviour> = {}, configExtra: Record<string, unknown> = {}) {
  const dir = tempDir();
  const dumpPath = join(dir, 'crm.json');
  const config = writeJson(dir, 'config.json', {
    crm: { type: 'hubspot', access_token: 'pat-na1-secret-token-123' },
    objects: [{ stream: 'invoices', object: 'invoices', mode: 'upsert', match: { source: 'invoice_id', destination: 'invoice_id' }, ...objectEntry }],
    state: { path: join(dir, 'state.db') },
    ...configExtra,
  });
  const env = { MEMORY_CRM: JSON.stringify({ objects: { invoices: INVOICE_FIELDS }, dumpPath, ...behaviour }) };
  const crm = () => JSON.parse(readFileSync(dumpPath, 'utf8')) as MemoryDump;
  /** Runs as a Singer target (`singer`) or the Airbyte write command (`airbyte`). */
  const run = (stdin: string[], output: 'airbyte' | 'singer', args: string[] = [], options: CliOptions = {}) => runCli(
    output === 'singer' ? ['--config', config, ...args] : ['write', '--config', config, ...args],
    { entry: 'memory', env, stdin, output, ...options },
  );
  return { dir, config, env, crm, run };
}

export const invoice = (n: number, extra: Record<string, unknown> = {}) => ({ invoice_id: `INV-${n}`, amount: n, status: 'open', ...extra });

export const singer = {
  schema: (stream = 'invoices', properties: Record<string, unknown> = { invoice_id: { type: 'string' }, amount: { type: 'number' }, status: { type: 'string' } }) =>
    JSON.stringify({ type: 'SCHEMA', stream, schema: { type: 'object', properties }, key_properties: ['invoice_id'] }),
  record: (record: Record<string, unknown>, stream = 'invoices', version?: number) =>
    JSON.stringify({ type: 'RECORD', stream, record, ...(version === undefined ? {} : { version }) }),
  state: (value: unknown) => JSON.stringify({ type: 'STATE', value }),
  activate: (version: number, stream = 'invoices') => JSON.stringify({ type: 'ACTIVATE_VERSION', stream, version }),
};

export const airbyte = {
  record: (data: Record<string, unknown>, stream = 'invoices') => JSON.stringify({ type: 'RECORD', record: { stream, data, emitted_at: 0 } }),
  state: (cursor: number, stream = 'invoices') =>
    JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: stream }, stream_state: { cursor } } } }),
};

/** An ObjectWriter for engine tests driven without a CRM: every field writable, values unconverted, `write` the test's. */
export function stubWriter(writer: Pick<ObjectWriter, 'write'> & Partial<ObjectWriter>): ObjectWriter {
  return {
    maxBatchRows: 100,
    maxConcurrentWrites: 1,
    start: async () => undefined,
    requestCount: () => 0,
    createsFindableAfterMs: 0,
    journalsCreates: false,
    isWritableField: () => true,
    prepare: (row) => ({ ok: true, values: row.values }),
    ...writer,
  };
}
