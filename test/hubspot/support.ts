// Shared set-up for HubSpot CLI tests: an emulator seeded with the example invoices object and a
// config pointing the real CLI at it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { repoRoot } from '../support/airbyte-protocol.ts';
import { tempDir, writeJson } from '../support/run-cli.ts';

export const TOKEN = 'pat-na1-test-token-0123456789';
export const invoicesSchema = JSON.parse(readFileSync(join(repoRoot, 'examples/hubspot/invoices-schema.json'), 'utf8'));

export async function startEmulator(options: Parameters<typeof startHubSpotEmulator>[0] = {}): Promise<HubSpotEmulator> {
  return startHubSpotEmulator({ accessTokens: [TOKEN], schemas: [invoicesSchema], ...options });
}

export function hubspotConfig(emulator: HubSpotEmulator, objectEntry: Record<string, unknown>, crm: Record<string, unknown> = {}) {
  const dir = tempDir();
  const config = {
    crm: { type: 'hubspot', access_token: TOKEN, base_url: emulator.url, ...crm },
    objects: [{ object: 'invoices', ...objectEntry }],
    state: { path: join(dir, 'state.db') },
  };
  return { dir, path: writeJson(dir, 'config.json', config) };
}

export const UPSERT_BY_NUMBER = { mode: 'upsert', match: { source: 'invoice_id', destination: 'invoice_number' } };

export function invoiceRows(count: number, from = 0): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    return {
      invoice_id: `INV-${String(n).padStart(5, '0')}`,
      customer_email: `buyer${n}@example.com`,
      amount: n + 0.5,
      status: ['open', 'Paid in full', 'VOID'][n % 3],
      tags: n % 2 ? ['priority', 'Recurring'] : [],
      due_date: '2026-03-01',
      issued_at: '2026-02-01 08:30:00',
      is_overdue: n % 2 === 0,
    };
  });
}

export const jsonl = (rows: unknown[]) => rows.map((row) => JSON.stringify(row));

/** Write calls in the emulator's log (batch create/update/upsert/archive), excluding reads. */
export function writeCalls(emulator: HubSpotEmulator): string[] {
  return emulator.requests
    .filter((r) => r.method === 'POST' && /\/batch\/(create|update|upsert|archive)$/.test(r.path))
    .map((r) => r.path.split('/').at(-1)!);
}
