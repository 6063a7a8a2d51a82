// The shipped examples run as documented, against the HubSpot emulator instead of HubSpot.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotEmulator } from '../emulators/hubspot/index.ts';
import { repoRoot } from './support/airbyte-protocol.ts';
import { byType, runCli, summaryOf, tempDir, writeJson } from './support/run-cli.ts';
import { startEmulator } from './hubspot/support.ts';

let emulator: HubSpotEmulator;
beforeEach(async () => { emulator = await startEmulator({ accessTokens: ['pat-na1-00000000-demo-token'] }); });
afterEach(async () => { await emulator.close(); });

const example = (path: string) => join(repoRoot, 'examples', path);

/** The example's config, pointed at the emulator, its files kept in a temporary folder. */
function localConfig(path: string): string {
  const dir = tempDir();
  const config = JSON.parse(readFileSync(example(path), 'utf8'));
  config.crm.base_url = emulator.url;
  if (config.state) config.state.path = join(dir, 'state.db');
  if (config.rejected_records_path) config.rejected_records_path = join(dir, 'rejected.jsonl');
  return writeJson(dir, 'config.json', config);
}

describe('examples', () => {
  it('airbyte/: the configured catalog and its messages load, every STATE comes back with its counts', async () => {
    const config = localConfig('airbyte/config.json');
    const check = await runCli(['check', '--config', config]);
    expect(byType(check.messages, 'CONNECTION_STATUS')[0].connectionStatus).toEqual({ status: 'SUCCEEDED' });
    const run = await runCli(['write', '--config', config, '--catalog', example('airbyte/configured_catalog.json')], {
      stdin: readFileSync(example('airbyte/messages.jsonl'), 'utf8'),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(byType(run.messages, 'STATE').map((m) => m.state.destinationStats)).toEqual([
      { recordCount: 2, rejectedRecordCount: 0 }, { recordCount: 1, rejectedRecordCount: 0 },
    ]);
    expect(emulator.records('invoices').map((r) => r.properties.status).sort()).toEqual(['open', 'paid', 'void']);
  });

  it('pipe/: plain rows load; a later run without some keys clears their fields', async () => {
    const config = localConfig('pipe/config.json');
    const rows = readFileSync(example('hubspot/invoices.jsonl'), 'utf8').trim().split('\n');
    const first = await runCli(['write', '--config', config], { stdin: rows });
    expect(first.code, first.stderr).toBe(0);
    expect(summaryOf(first.stderr)['invoices']).toMatchObject({ received: rows.length, created: 25, rejected: 2 });
    const second = await runCli(['write', '--config', config], { stdin: rows.slice(1) });
    expect(summaryOf(second.stderr)['invoices']).toMatchObject({ left_segment: 1 });
    const gone = emulator.records('invoices').find((r) => r.properties.invoice_number === 'INV-1001')!;
    expect(gone.properties).toMatchObject({ amount: '', status: '' });
  });
});
