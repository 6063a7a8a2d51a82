// The CLI as users and orchestrators run it: protocol messages on stdout (validated against the
// Airbyte schema by runCli), state discipline, exit codes, with the in-memory CRM double.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { byType, errorTraces, runCli, summaryOf, tempDir, writeJson } from '../support/run-cli.ts';
import type { MemoryBehaviour, MemoryDump } from '../support/memory-destination.ts';
import { assertValid } from '../support/airbyte-protocol.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures', name), 'utf8');

const INVOICE_FIELDS = { invoice_id: 'string', amount: 'number', status: 'string' } as const;

function setup(behaviour: Partial<MemoryBehaviour> = {}, configOverride: Record<string, unknown> = {}) {
  const dir = tempDir();
  const dumpPath = join(dir, 'crm.json');
  const config = writeJson(dir, 'config.json', {
    crm: { type: 'hubspot', access_token: 'pat-na1-secret-token-123' },
    objects: [{ stream: 'invoices', object: 'invoices', mode: 'upsert', match: { source: 'invoice_id', destination: 'invoice_id' } }],
    state: { path: join(dir, 'state.db') },
    ...configOverride,
  });
  const env = { MEMORY_CRM: JSON.stringify({ objects: { invoices: INVOICE_FIELDS }, rejectValue: 'INVALID', dumpPath, ...behaviour }) };
  const crm = () => JSON.parse(readFileSync(dumpPath, 'utf8')) as MemoryDump;
  return { dir, config, env, crm };
}

describe('spec, about and config validation', () => {
  it('prints one SPEC valid against the protocol, with the sync modes and secrets marked', async () => {
    const run = await runCli(['spec']);
    expect(run.code).toBe(0);
    expect(run.messages).toHaveLength(1);
    const { spec } = run.messages[0];
    assertValid('ConnectorSpecification', spec);
    expect(spec.protocol_version).toBe('0.2.0');
    expect(spec.supported_destination_sync_modes).toEqual(['append', 'append_dedup', 'update', 'soft_delete', 'overwrite']);
    const hubspot = spec.connectionSpecification.properties.crm.oneOf[0].properties;
    expect(hubspot.access_token.airbyte_secret).toBe(true);
    expect(hubspot.oauth.properties.client_secret.airbyte_secret).toBe(true);
    expect(hubspot.oauth.properties.refresh_token.airbyte_secret).toBe(true);
  });

  it('fails check with every config problem listed by path', async () => {
    const dir = tempDir();
    const config = writeJson(dir, 'config.json', {
      crm: { type: 'hubspot', acces_token: 'x' },
      objects: [{ object: 'invoices', mode: 'upsrt', match: {} }],
    });
    const run = await runCli(['check', '--config', config], { entry: 'memory', env: { MEMORY_CRM: '{"objects":{}}' } });
    expect(run.code).toBe(0);
    const [status] = byType(run.messages, 'CONNECTION_STATUS');
    expect(status.connectionStatus.status).toBe('FAILED');
    const message: string = status.connectionStatus.message;
    expect(message).toContain('objects[0].match.source is required');
    expect(message).toContain('objects[0].mode must be one of insert, update, upsert');
    expect(message).toContain('crm.acces_token is not a known setting (did you mean "access_token"?)');
  });

  it('checks the semantic rules the schema cannot say', async () => {
    const dir = tempDir();
    const config = writeJson(dir, 'config.json', {
      crm: { type: 'hubspot', base_url: 'http://api.example.com' },
      objects: [{ object: 'invoices', mode: 'update', match: { source: 'id' } }, { object: 'deals', mode: 'insert', match: { source: 'id' } }],
    });
    const run = await runCli(['check', '--config', config], { entry: 'memory' });
    const message: string = run.messages[0].connectionStatus.message;
    expect(message).toContain('crm.access_token or crm.oauth is required');
    expect(message).toContain('crm.base_url uses plain http://');
    expect(message).toContain('objects[0].stream is required when there are several objects');
    expect(message).toContain('objects[0].match.destination is required in update mode');
  });

  it('succeeds check when the object and mapping exist, and names a missing field when not', async () => {
    const ok = setup();
    const good = await runCli(['check', '--config', ok.config], { entry: 'memory', env: ok.env });
    expect(good.messages).toEqual([{ type: 'CONNECTION_STATUS', connectionStatus: { status: 'SUCCEEDED' } }]);

    const bad = setup({}, {
      objects: [{ object: 'invoices', mode: 'insert', match: { source: 'invoice_id' }, fields: [{ source: 'a', destination: 'amout' }] }],
    });
    const failed = await runCli(['check', '--config', bad.config], { entry: 'memory', env: bad.env });
    expect(failed.messages[0].connectionStatus).toEqual({ status: 'FAILED', message: 'objects[0]: field "amout" does not exist on invoices' });
  });

  it('prints Meltano\'s about shape with --about --format json', async () => {
    const run = await runCli(['--about', '--format', 'json'], { output: 'none' });
    expect(run.code).toBe(0);
    const about = JSON.parse(run.stdout);
    expect(about).toMatchObject({ name: 'crm-activate', capabilities: expect.arrayContaining(['about']) });
    expect(about.settings.properties.crm).toBeDefined();
    expect(typeof about.version).toBe('string');
  });

  it('exits with a usage error and nothing on stdout when no command is given', async () => {
    const run = await runCli([], { output: 'none' });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('give a command');
  });
});

describe('write (Airbyte)', () => {
  it('echoes each STATE verbatim, in order, after its records, with counts that add up', async () => {
    const { config, env, crm } = setup({ batchSize: 2, maxLatencyMs: 30 });
    const run = await runCli(['write', '--config', config], { entry: 'memory', env, stdin: fixture('airbyte-invoices.jsonl') });
    expect(run.code).toBe(0);
    const states = byType(run.messages, 'STATE');
    expect(states.map((s) => s.state.id)).toEqual([1, 2, 3]);
    expect(states[0].state).toEqual({
      type: 'STREAM',
      stream: { stream_descriptor: { name: 'invoices' }, stream_state: { cursor: '2026-01-01' } },
      sourceStats: { recordCount: 2 },
      id: 1,
      custom_key: 'kept verbatim',
      destinationStats: { recordCount: 2, rejectedRecordCount: 0 },
    });
    expect(states[1].state.destinationStats).toEqual({ recordCount: 3, rejectedRecordCount: 2 });
    expect(states[2].state.destinationStats).toEqual({ recordCount: 1, rejectedRecordCount: 1 });
    // Verbatim means byte for byte: integers beyond 2^53 and the doubles' decimal points survive.
    expect(run.stdout).toContain('"stream_state":{"cursor":12345678901234567890}');
    expect(run.stdout).toContain('"sourceStats":{"recordCount":3.0}');
    expect(run.stdout).toContain('"destinationStats":{"recordCount":3.0,"rejectedRecordCount":2.0}');
    expect(Object.keys(crm().records.invoices).sort()).toEqual(['INV-1', 'INV-2', 'INV-5', 'INV-6']);
    expect(crm().records.invoices['INV-1']).toEqual({ invoice_id: 'INV-1', amount: 120.5, status: 'open' });
    expect(run.stderr).toContain('rejected line 4 (key INV-3): INVALID_OPTION [status]');
    expect(run.stderr).toContain('rejected line 5 (key INV-4): INVALID_NUMBER [amount]');
    expect(run.stderr).toContain('rejected line 9: unknown_stream');
  });

  it('batches at the writer\'s maximum', async () => {
    const { config, env, crm } = setup({ batchSize: 100 });
    const rows = Array.from({ length: 250 }, (_, i) => JSON.stringify({ type: 'RECORD', record: { stream: 'invoices', data: { invoice_id: `I${i}`, amount: i }, emitted_at: 0 } }));
    const run = await runCli(['write', '--config', config], { entry: 'memory', env, stdin: rows });
    expect(run.code).toBe(0);
    expect(crm().writes.map((w) => w.rows)).toEqual([100, 100, 50]);
  });

  it('stops on a transient failure: TRACE transient_error, exit 1, no state past the failed batch', async () => {
    const { config, env } = setup({ batchSize: 2, concurrency: 1, failOnWrite: { call: 2, category: 'transient' } });
    const run = await runCli(['write', '--config', config], { entry: 'memory', env, stdin: fixture('airbyte-invoices.jsonl') });
    expect(run.code).toBe(1);
    const states = byType(run.messages, 'STATE');
    expect(states.map((s) => s.state.id)).toEqual([1]);
    const [trace] = errorTraces(run.messages);
    expect(trace.trace.error).toMatchObject({ failure_type: 'transient_error', message: 'write call 2 failed' });
    expect(run.messages.at(-1)?.type).toBe('TRACE');
  });

  it('reports an invalid config as TRACE config_error and exits 1 without reading records', async () => {
    const dir = tempDir();
    const config = writeJson(dir, 'config.json', { crm: { type: 'hubspot', access_token: 'pat-na1-secret-token-123' }, objects: [] });
    const run = await runCli(['write', '--config', config], { entry: 'memory', stdin: fixture('airbyte-invoices.jsonl') });
    expect(run.code).toBe(1);
    expect(run.messages).toHaveLength(1);
    expect(run.messages[0].trace.error).toMatchObject({ failure_type: 'config_error', message: 'invalid config: objects must have at least 1 item' });
  });

  it('fails before reading input when a mapping is wrong, naming the field', async () => {
    const { config, env } = setup({}, {
      objects: [{ object: 'invoices', mode: 'upsert', match: { source: 'invoice_id', destination: 'invoice_id' }, fields: [{ source: 'x', destination: 'totl' }] }],
    });
    const run = await runCli(['write', '--config', config], { entry: 'memory', env, stdin: fixture('airbyte-invoices.jsonl') });
    expect(run.code).toBe(1);
    expect(run.messages[0].trace.error).toMatchObject({ failure_type: 'config_error', message: 'objects[0]: field "totl" does not exist on invoices' });
  });

  it('treats refused credentials as a config error and never prints the secret', async () => {
    const { config, env } = setup({ badCredentials: true });
    const run = await runCli(['write', '--config', config], { entry: 'memory', env, stdin: '' });
    expect(run.code).toBe(1);
    expect(errorTraces(run.messages)[0].trace.error.failure_type).toBe('config_error');
    expect(run.stdout + run.stderr).not.toContain('pat-na1-secret-token-123');
  });

  it('fills object, mode and key from the catalog when the config has no entry for a stream', async () => {
    const { dir, env, crm } = setup();
    const config = writeJson(dir, 'config.json', {
      crm: { type: 'hubspot', access_token: 'pat-na1-secret-token-123' },
      objects: [{ stream: 'other', object: 'invoices', mode: 'insert', match: { source: 'invoice_id' } }],
      state: { path: join(dir, 'state.db') },
    });
    const catalog = writeJson(dir, 'catalog.json', {
      streams: [{
        stream: { name: 'invoices', json_schema: {}, supported_sync_modes: ['full_refresh'] },
        sync_mode: 'full_refresh', destination_sync_mode: 'append_dedup', destination_object_name: 'invoices', primary_key: [['invoice_id']],
      }],
    });
    assertValid('ConfiguredAirbyteCatalog', JSON.parse(readFileSync(catalog, 'utf8')));
    const run = await runCli(['write', '--config', config, '--catalog', catalog], { entry: 'memory', env, stdin: fixture('airbyte-invoices.jsonl') });
    expect(run.code).toBe(0);
    expect(Object.keys(crm().records.invoices).sort()).toEqual(['INV-1', 'INV-2', 'INV-5', 'INV-6']);
  });
});

describe('Singer target and bare JSONL', () => {
  it('runs as a Singer target with --config and emits each STATE value after flushing', async () => {
    const { config, env, crm } = setup({ batchSize: 10 });
    const run = await runCli(['--config', config], { entry: 'memory', env, stdin: fixture('singer-invoices.jsonl'), output: 'singer' });
    expect(run.code).toBe(0);
    expect(run.messages).toEqual([
      { bookmarks: { invoices: { updated_at: '2026-01-02T00:00:00Z' } } },
      { bookmarks: { invoices: { updated_at: '2026-01-03T00:00:00Z' } } },
    ]);
    expect(Object.keys(crm().records.invoices).sort()).toEqual(['INV-1', 'INV-2']);
  });

  it('writes bare JSONL rows to the single configured object, rejecting bad lines with reasons', async () => {
    const { config, env, crm } = setup({}, {
      objects: [{ object: 'invoices', mode: 'upsert', match: { source: 'invoice_id', destination: 'invoice_id' } }],
    });
    const run = await runCli(['write', '--config', config], { entry: 'memory', env, stdin: fixture('bare-invoices.jsonl') });
    expect(run.code).toBe(0);
    expect(run.messages).toEqual([]);
    expect(crm().records.invoices).toEqual({
      'INV-1': { invoice_id: 'INV-1', amount: 120.5, status: 'open' },
      'INV-2': { invoice_id: 'INV-2', amount: 80, status: 'paid' },
      'INV-3': { invoice_id: 'INV-3', amount: 3, status: 'open' },
    });
    expect(run.stderr).toContain('rejected line 3: missing_key [invoice_id]');
    expect(run.stderr).toContain('rejected line 5: malformed_json');
    expect(run.stderr).toContain('rejected line 6: not_an_object');
    expect(run.stderr).toContain('columns with no writable field of invoices were not sent: not_a_field');
    const summary = summaryOf(run.stderr);
    expect(summary['invoices']).toMatchObject({ received: 4, created: 3, rejected: 1 });
    expect(summary['(unrouted)']).toMatchObject({ received: 2, rejected: 2 });
    expect(summary.total).toMatchObject({ received: 6, created: 3, updated: 0, rejected: 3 });
  });

  it('reads an Airbyte-looking line as a bare row when --input-format jsonl forces it', async () => {
    const { config, env, crm } = setup({}, {
      objects: [{ object: 'invoices', mode: 'upsert', match: { source: 'invoice_id', destination: 'invoice_id' } }],
    });
    const line = JSON.stringify({ type: 'STATE', invoice_id: 'T-1', status: 'x' });
    const run = await runCli(['write', '--config', config, '--input-format', 'jsonl'], { entry: 'memory', env, stdin: line });
    expect(run.code).toBe(0);
    expect(crm().records.invoices).toEqual({ 'T-1': { invoice_id: 'T-1', status: 'x' } });
  });
});
