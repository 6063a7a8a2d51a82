// HubSpot as a benchmark target: the example invoices object with two more columns (10 typed
// fields), upserted by its unique invoice_number, 100 inputs per batch call.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';
import { CUSTOMERS, customerEmail, KEY_COLUMN, VALUE_COLUMNS } from '../rows.js';
import type { BenchTarget, Pace, RateLimit } from '../target.js';

export const HUBSPOT_TOKEN = 'pat-na1-bench-0000-0000-000000000000';
export const HUBSPOT_OBJECT = 'invoices';
const BATCH_MAX = 100;

/** Fast enough that neither side's pacing is what is measured: the emulator refuses nothing. */
const UNLIMITED_EMULATOR: RateLimit = { max: 1_000_000, intervalMs: 100 };
/** The connector's highest budget the config allows (1,000 per 100 ms). */
const UNLIMITED_CONNECTOR = { max_requests: 1000, interval_ms: 100 };

export function benchSchema(): Record<string, unknown> {
  const schema = JSON.parse(readFileSync(join(repoRoot, 'examples/hubspot/invoices-schema.json'), 'utf8'));
  schema.properties.push(
    { name: 'quantity', label: 'Quantity', type: 'number', fieldType: 'number' },
    { name: 'note', label: 'Note', type: 'string', fieldType: 'textarea' },
  );
  return schema;
}

export const hubspot: BenchTarget = {
  crm: 'hubspot',
  batchMax: BATCH_MAX,
  minimumRule: `ceil(changed / ${BATCH_MAX})`,
  // The API limit increase: 250 requests per 10 s.
  topRateLimit: { max: 250, intervalMs: 10_000 },
  // Most private apps: 100 requests per 10 s.
  throttleLimit: { max: 100, intervalMs: 10_000 },
  // Professional and Enterprise private apps: 190 per 10 s, which the default config must find by itself.
  ceilingLimit: { max: 190, intervalMs: 10_000 },
  minimumWriteCalls: (changed) => Math.ceil(changed / BATCH_MAX),
  // Issue 15: each invoice linked to the contact whose email its row names, every customer a contact.
  links: {
    seed: [{ objectType: 'contacts', rows: () => Array.from({ length: CUSTOMERS }, (_, customer) => ({ email: customerEmail(customer) })) }],
    associations: [{ to: 'contacts', source: 'customer_email', match: 'email' }],
  },
  emulatorOptions: (pace: Pace) => ({
    accessTokens: [HUBSPOT_TOKEN],
    schemas: [benchSchema()],
    rateLimit: pace.kind === 'throttled' ? pace.limit : UNLIMITED_EMULATOR,
  }),
  config: (url, statePath, pace) => ({
    crm: {
      type: 'hubspot',
      access_token: HUBSPOT_TOKEN,
      base_url: url,
      ...(pace.kind !== 'throttled' ? { rate_limit: UNLIMITED_CONNECTOR }
        : pace.connectorDefault ? {} : { rate_limit: { max_requests: pace.limit.max, interval_ms: pace.limit.intervalMs } }),
    },
    objects: [{
      object: HUBSPOT_OBJECT,
      mode: 'upsert',
      match: { source: KEY_COLUMN, destination: 'invoice_number' },
      fields: VALUE_COLUMNS.map((column) => ({ source: column, destination: column })),
    }],
    state: { path: statePath },
  }),
};
