// A dry run plans from a copy of the store: the copy is gone when the run ends, not when some
// later process exits (a copy of a large store per dry run would fill the disk). The scratch store
// of change_detection crm is covered by the CRMs' change-detection tests.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, writeJson } from '../support/run-cli.ts';

const MEMORY_CRM = JSON.stringify({ objects: { invoices: { invoice_id: 'string', amount: 'number' } } });

async function runLeavingNothing(args: string[]): Promise<string[]> {
  const dir = tempDir();
  const temporaryFolder = tempDir();
  const path = writeJson(dir, 'config.json', {
    crm: { type: 'hubspot', access_token: 'pat-na1-secret-token-123' },
    objects: [{ object: 'invoices', mode: 'upsert', match: { source: 'invoice_id', destination: 'invoice_id' } }],
    state: { path: join(dir, 'state.db') },
  });
  const rows = Array.from({ length: 30 }, (_, i) => JSON.stringify({ invoice_id: `INV-${i}`, amount: i }));
  const run = await runCli(['write', '--config', path, ...args], { entry: 'memory', env: { MEMORY_CRM, TMPDIR: temporaryFolder }, stdin: rows });
  expect(run.code, run.stderr).toBe(0);
  return readdirSync(temporaryFolder);
}

describe('temporary stores', () => {
  it('a dry run removes its copy of the store when it ends', async () => {
    expect(await runLeavingNothing(['--dry-run'])).toEqual([]);
  });
});
