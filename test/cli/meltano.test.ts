// The Singer target as Meltano runs it: settings from TARGET_CRM_ACTIVATE_* variables, a stream
// of SCHEMA / ACTIVATE_VERSION / RECORD / STATE on stdin, state values back on stdout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../support/airbyte-protocol.ts';
import { runCli, tempDir, writeJson } from '../support/run-cli.ts';
import type { MemoryDump } from '../support/memory-destination.ts';

describe('Meltano', () => {
  it('takes settings from TARGET_CRM_ACTIVATE_* variables and runs the Singer stream', async () => {
    const dir = tempDir();
    const dumpPath = join(dir, 'crm.json');
    const config = writeJson(dir, 'config.json', { objects: [{ stream: 'public-invoices', object: 'invoices', mode: 'upsert', match: { source: 'id', destination: 'id' } }] });
    const stream = [
      { type: 'SCHEMA', stream: 'public-invoices', schema: { type: 'object' }, key_properties: ['id'] },
      { type: 'ACTIVATE_VERSION', stream: 'public-invoices', version: 7 },
      { type: 'RECORD', stream: 'public-invoices', record: { id: 'a', amount: 1 }, version: 7 },
      { type: 'RECORD', stream: 'public-invoices', record: { id: 'b', amount: 2 }, version: 7 },
      { type: 'STATE', value: { bookmarks: { 'public-invoices': { version: 7 } } } },
    ].map((m) => JSON.stringify(m));
    const run = await runCli(['--config', config], {
      entry: 'memory', output: 'singer', stdin: stream,
      env: {
        TARGET_CRM_ACTIVATE_CRM_TYPE: 'hubspot',
        TARGET_CRM_ACTIVATE_CRM_ACCESS_TOKEN: 'pat-na1-from-env-123456',
        TARGET_CRM_ACTIVATE_STATE_PATH: join(dir, 'state.db'),
        TARGET_CRM_ACTIVATE_DRY_RUN: 'false',
        MEMORY_CRM: JSON.stringify({ objects: { invoices: { id: 'string', amount: 'number' } }, dumpPath }),
      },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.messages).toEqual([{ bookmarks: { 'public-invoices': { version: 7 } } }]);
    const crm = JSON.parse(readFileSync(dumpPath, 'utf8')) as MemoryDump;
    expect(crm.records.invoices).toEqual({ a: { id: 'a', amount: 1 }, b: { id: 'b', amount: 2 } });
    expect(run.stderr).not.toContain('pat-na1-from-env-123456');
  });

  it('ships a meltano.yml whose loader settings name real config keys, secrets as passwords', () => {
    const meltano = parse(readFileSync(join(repoRoot, 'examples/meltano/meltano.yml'), 'utf8'));
    const loader = meltano.plugins.loaders[0];
    const spec = JSON.parse(readFileSync(join(repoRoot, 'spec.json'), 'utf8'));
    const doc = readFileSync(join(repoRoot, 'docs/config.md'), 'utf8');
    for (const setting of loader.settings) expect(doc, setting.name).toContain(`\`${setting.name}\``);
    const secrets = loader.settings.filter((s: { kind: string }) => s.kind === 'password').map((s: { name: string }) => s.name);
    expect(secrets).toEqual(expect.arrayContaining(['crm.access_token', 'crm.oauth.client_secret', 'crm.oauth.refresh_token']));
    expect(Object.keys(spec.properties)).toEqual(expect.arrayContaining(loader.settings.filter((s: { name: string }) => !s.name.includes('.')).map((s: { name: string }) => s.name)));
    // Top-level choices offer exactly what the spec accepts.
    for (const setting of loader.settings.filter((s: { kind: string; name: string }) => s.kind === 'options' && spec.properties[s.name]?.enum)) {
      expect(setting.options.map((o: { value: string }) => o.value), setting.name).toEqual(spec.properties[setting.name].enum);
    }
  });
});
