// The CRMs the reliability suite runs against, behind one small shape: start an emulator, write a
// config for a mode, make rows, inject faults in CRM-neutral terms, read the final state back in
// the rows' own terms. A test loops over CRM_SCENARIOS; adding a CRM is one more entry here.
// Rows speak one vocabulary whatever the CRM: invoice_id (the key), amount (a number), status
// (open | paid | void) and customer_email (text); each scenario maps them to its object's fields,
// and refuses a status outside the three and an amount that is not a number.
import { join } from 'node:path';
import { startHubSpotEmulator, type Fault, type HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import {
  startSalesforceEmulator, type CustomObjectDef, type Fault as SalesforceFault, type SalesforceEmulator,
} from '../../emulators/salesforce/index.ts';
import type { GarbledBody } from '../../emulators/shared/garbled.ts';
import { writeJson } from '../support/run-cli.ts';
import { invoicesSchema } from '../hubspot/support.ts';

export type SyncMode = 'upsert' | 'insert' | 'update';
/** Which requests a fault hits: record writes, record reads, any CRM call, or the token endpoint. */
export type FaultTarget = 'write' | 'read' | 'any' | 'auth';

export type CrmFault = { on?: FaultTarget; every?: number; times?: number; probability?: number } & (
  | { kind: 'rate-limited'; retryAfterSeconds?: number; policy?: 'window' | 'secondly' | 'daily' }
  | { kind: 'server-error'; status?: 500 | 502 | 503 | 504 }
  | { kind: 'reset-before' }
  | { kind: 'reset-after' }
  | { kind: 'latency'; ms: number }
  | { kind: 'expire-token' }
  | { kind: 'refused'; status: 400 | 401 | 403; echoRequest?: boolean }
  /** Applied, then answered with a 200 the client cannot use (a proxy's page, a cut-off body, another shape). */
  | { kind: 'garbled'; body: GarbledBody });

export type Row = Record<string, unknown>;

export interface CrmState {
  /** Key → the mapped fields as the rows carry them. */
  byKey: Map<string, Row>;
  /** Keys held by more than one record. */
  duplicates: string[];
}

export interface LoggedRequest {
  target: FaultTarget | 'other';
  status: number;
  at: number;
}

export interface ConfigOptions {
  /** Merged into the crm block (timeouts, credentials). */
  crm?: Record<string, unknown>;
  /** The connector's request budget, where the CRM has one to set (HubSpot); others have none and ignore it. */
  pace?: { maxRequests: number; intervalMs: number };
  /** Merged into the config's top level (rejected_records_path, warnings...). */
  config?: Record<string, unknown>;
  /** The Airbyte stream the object entry consumes. */
  stream?: string;
}

export interface CrmUnderTest {
  readonly name: string;
  /** Secrets of the configs it writes, for the tests that look for leaks. */
  readonly secrets: string[];
  /** What the emulator's access tokens look like (it issues them at run time). */
  readonly issuedTokens: RegExp;
  /** The crm setting that holds the API root (or the login URL). */
  readonly apiRootSetting: string;
  /** The HTTP status the CRM answers with for a fault that answers (0 for resets and latency). */
  statusOf(fault: CrmFault): number;
  /** The CRM's name for a row column (the field a rejection names). */
  fieldName(column: string): string;
  /** A crm block override with credentials the CRM refuses, and its secrets. */
  wrongCredentials(): { crm: Record<string, unknown>; secrets: string[] };
  /** Writes dir/config.json for one object in this mode, its state store in dir. */
  writeConfig(dir: string, mode: SyncMode, options?: ConfigOptions): string;
  rows(count: number, from?: number): Row[];
  /** A row's key, as state().byKey holds it. */
  key(row: Row): string;
  expected(rows: Row[]): Map<string, Row>;
  state(): CrmState;
  /** Creates records for these rows before a run (update mode needs them). */
  seed(rows: Row[]): void;
  inject(faults: CrmFault[]): void;
  clearFaults(): void;
  requests(): LoggedRequest[];
  close(): Promise<void>;
}

export interface StartOptions {
  /** Authenticate with OAuth (refresh token): access tokens are fetched and renewed at run time. */
  oauth?: boolean;
  /** Authenticate with a token that cannot be renewed (HubSpot's default; Salesforce's access_token). */
  fixedToken?: boolean;
  /** The emulator's own rate limit (requests per interval, and a daily budget), where the CRM has one. */
  rateLimit?: { max: number; intervalMs: number; daily?: number };
}

/** One way a CRM says "slow down", and the least the connector must then wait before sending again. */
export interface Throttle {
  name: string;
  fault: CrmFault;
  minWaitMs: number;
  start?: StartOptions;
}

export interface CrmScenario {
  name: string;
  /** Rows one write request carries (the API's batch maximum): a run of N requests is N times this. */
  rowsPerRequest: number;
  /** Every way the CRM throttles, each checked for the wait it asks for. */
  throttles: Throttle[];
  /** A throttle that is pacing, not failing: many in a row must not use up the attempts. */
  storm: Throttle;
  start(options?: StartOptions): Promise<CrmUnderTest>;
}

/** Fast pacing for tests: the connector's budget matches the emulator's, one second wide. */
export const FAST_RATE = { max: 100, intervalMs: 1000 };

// ---------------------------------------------------------------------------------------------
// HubSpot: the invoices custom object, matched by its unique invoice_number.

const HUBSPOT_TOKEN = 'pat-na1-reliability-7f3c9e1a-token';
const HUBSPOT_OAUTH = { clientId: 'client-reliability-1', clientSecret: 'oauth-secret-5d2b8f0e', refreshToken: 'refresh-token-9a4c6e2f' };
const HUBSPOT_FIELDS = ['amount', 'status', 'customer_email'];
const STATUSES = ['open', 'paid', 'void'];

const HUBSPOT_PATHS: Record<FaultTarget, string> = {
  write: '/batch/(create|update|upsert|archive)$',
  read: '/batch/read$',
  any: '^/crm',
  auth: '^/oauth/',
};

function hubspotFault(fault: CrmFault): Fault {
  const { on = 'write', every, times, probability } = fault;
  const common = { match: { pathMatches: HUBSPOT_PATHS[on] }, every, times, probability };
  switch (fault.kind) {
    case 'rate-limited': {
      const policyName = ({ window: 'TEN_SECONDLY_ROLLING', secondly: 'SECONDLY', daily: 'DAILY' } as const)[fault.policy ?? 'window'];
      return { ...common, kind: 'status', status: 429, policyName, retryAfterSeconds: fault.retryAfterSeconds };
    }
    case 'server-error': return { ...common, kind: 'status', status: fault.status ?? 500 };
    case 'refused': return { ...common, kind: 'status', status: fault.status, echoRequest: fault.echoRequest };
    case 'expire-token': return { ...common, kind: 'expire-tokens' };
    case 'latency': return { ...common, kind: 'latency', ms: fault.ms };
    case 'garbled': return { ...common, kind: 'garbled', body: fault.body };
    default: return { ...common, kind: fault.kind };
  }
}

function targetOf(path: string): LoggedRequest['target'] {
  for (const target of ['write', 'read', 'auth'] as const) if (new RegExp(HUBSPOT_PATHS[target]).test(path)) return target;
  return path.startsWith('/crm') ? 'any' : 'other';
}

function hubspotStatus(fault: CrmFault): number {
  if (fault.kind === 'rate-limited') return 429;
  if (fault.kind === 'server-error') return fault.status ?? 500;
  return fault.kind === 'refused' ? fault.status : 0;
}

export const hubspotScenario: CrmScenario = {
  name: 'HubSpot',
  rowsPerRequest: 100,
  throttles: [
    { name: 'Retry-After on a 429', fault: { kind: 'rate-limited', retryAfterSeconds: 2 }, minWaitMs: 1900 },
    { name: 'without Retry-After, a second for the per-second policy', fault: { kind: 'rate-limited', policy: 'secondly' }, minWaitMs: 900 },
    {
      name: 'without Retry-After, the rolling window for the window policy',
      fault: { kind: 'rate-limited', policy: 'window' }, minWaitMs: 1400, start: { rateLimit: { max: 100, intervalMs: 1500 } },
    },
  ],
  storm: { name: '429s of the rolling window', fault: { kind: 'rate-limited', policy: 'window' }, minWaitMs: 150, start: { rateLimit: { max: 100, intervalMs: 200 } } },
  async start(options = {}) {
    const emulator: HubSpotEmulator = await startHubSpotEmulator({
      accessTokens: [HUBSPOT_TOKEN],
      schemas: [invoicesSchema],
      rateLimit: options.rateLimit ?? FAST_RATE,
      ...(options.oauth ? { oauth: HUBSPOT_OAUTH } : {}),
    });
    const credentials = options.oauth
      ? { oauth: { client_id: HUBSPOT_OAUTH.clientId, client_secret: HUBSPOT_OAUTH.clientSecret, refresh_token: HUBSPOT_OAUTH.refreshToken } }
      : { access_token: HUBSPOT_TOKEN };
    const rate = options.rateLimit ?? FAST_RATE;
    return {
      name: 'HubSpot',
      secrets: options.oauth ? [HUBSPOT_OAUTH.clientSecret, HUBSPOT_OAUTH.refreshToken] : [HUBSPOT_TOKEN],
      issuedTokens: /emu-[0-9a-f]{24}/,
      apiRootSetting: 'base_url',
      statusOf: hubspotStatus,
      fieldName: (column) => column,
      wrongCredentials: () => ({ crm: { access_token: 'pat-na1-refused-4e8a1c7b-token', oauth: undefined }, secrets: ['pat-na1-refused-4e8a1c7b-token'] }),
      writeConfig(dir, mode, config = {}) {
        const pace = config.pace ?? { maxRequests: rate.max, intervalMs: rate.intervalMs };
        return writeJson(dir, 'config.json', {
          crm: { type: 'hubspot', base_url: emulator.url, ...credentials, rate_limit: { max_requests: pace.maxRequests, interval_ms: pace.intervalMs }, ...config.crm },
          objects: [{
            ...(config.stream ? { stream: config.stream } : {}),
            object: 'invoices',
            mode,
            match: { source: 'invoice_id', destination: 'invoice_number' },
            fields: HUBSPOT_FIELDS.map((name) => ({ source: name, destination: name })),
          }],
          state: { path: join(dir, 'state.db') },
          ...config.config,
        });
      },
      rows: invoiceRows,
      key: (row) => String(row.invoice_id),
      expected: (rows) => new Map(rows.map((row) => [String(row.invoice_id), Object.fromEntries(HUBSPOT_FIELDS.map((f) => [f, String(row[f])]))])),
      state() {
        const byKey = new Map<string, Row>();
        const duplicates: string[] = [];
        for (const record of emulator.records('invoices')) {
          const key = record.properties.invoice_number;
          if (byKey.has(key)) duplicates.push(key);
          byKey.set(key, Object.fromEntries(HUBSPOT_FIELDS.map((f) => [f, record.properties[f]])));
        }
        return { byKey, duplicates };
      },
      seed(rows) {
        for (let i = 0; i < rows.length; i += 100) {
          emulator.seedRecords('invoices', rows.slice(i, i + 100).map((row) => ({ invoice_number: String(row.invoice_id), amount: '0', status: 'open' })));
        }
      },
      inject: (faults) => emulator.injectFaults(faults.map(hubspotFault)),
      clearFaults: () => emulator.clearFaults(),
      requests: () => emulator.requests.map((r) => ({ target: targetOf(r.path), status: r.status, at: r.at })),
      close: () => emulator.close(),
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Salesforce: an Invoice__c custom object matched by its external id Invoice_Number__c, written
// through sObject Collections (Bulk API 2.0 has its own tests: salesforce-bulk.test.ts).
//
// Salesforce has no per-second request budget and no 429: under load it answers 503
// SERVER_UNAVAILABLE (which a proxy or maintenance page may send with Retry-After), and beyond the
// org's concurrent long-running requests 403 REQUEST_LIMIT_EXCEEDED "ConcurrentRequests", which
// lifts as soon as one ends; the daily allowance is 403 REQUEST_LIMIT_EXCEEDED "TotalRequests".
// The neutral kinds map onto those.

export const SALESFORCE_CLIENT = { clientId: 'reliability-client-3c8e', clientSecret: 'sf-client-secret-6b1d9f4a', refreshToken: 'sf-refresh-token-8e2a7c5b' };
const SALESFORCE_FIELDS: Record<string, string> = { amount: 'Amount__c', status: 'Status__c', customer_email: 'Customer_Email__c' };

export const reliabilityInvoice: CustomObjectDef = {
  name: 'Invoice__c',
  label: 'Invoice',
  fields: [
    { name: 'Invoice_Number__c', label: 'Invoice Number', type: 'string', length: 40, externalId: true, unique: true },
    { name: 'Amount__c', label: 'Amount', type: 'currency', precision: 16, scale: 2 },
    { name: 'Status__c', label: 'Status', type: 'picklist', picklistValues: STATUSES, restrictedPicklist: true },
    { name: 'Customer_Email__c', label: 'Customer Email', type: 'email' },
  ],
};

const SALESFORCE_PATHS: Record<FaultTarget, string> = {
  write: '/composite/sobjects',
  read: '/query([?/]|$)',
  any: '^/services/data/',
  auth: '^/services/oauth2/token',
};

function salesforceFault(fault: CrmFault): SalesforceFault {
  const { on = 'write', every, times, probability } = fault;
  const common = { match: { pathMatches: SALESFORCE_PATHS[on] }, every, times, probability };
  switch (fault.kind) {
    case 'rate-limited':
      if (fault.policy === 'daily') return { ...common, kind: 'limit', limit: 'daily' };
      if (fault.retryAfterSeconds !== undefined) return { ...common, kind: 'status', status: 503, retryAfterSeconds: fault.retryAfterSeconds };
      if (fault.policy === 'secondly') return { ...common, kind: 'status', status: 503 };
      return { ...common, kind: 'limit', limit: 'concurrent' };
    case 'server-error': return { ...common, kind: 'status', status: fault.status ?? 500 };
    case 'refused': return { ...common, kind: 'status', status: fault.status, echoRequest: fault.echoRequest };
    case 'expire-token': return { ...common, kind: 'expire-session' };
    case 'latency': return { ...common, kind: 'latency', ms: fault.ms };
    case 'garbled': return { ...common, kind: 'garbled', body: fault.body };
    default: return { ...common, kind: fault.kind };
  }
}

function salesforceStatus(fault: CrmFault): number {
  if (fault.kind === 'rate-limited') return fault.policy === 'daily' || (fault.policy !== 'secondly' && fault.retryAfterSeconds === undefined) ? 403 : 503;
  if (fault.kind === 'server-error') return fault.status ?? 500;
  return fault.kind === 'refused' ? fault.status : 0;
}

function salesforceTarget(path: string): LoggedRequest['target'] {
  for (const target of ['write', 'read', 'auth'] as const) if (new RegExp(SALESFORCE_PATHS[target]).test(path)) return target;
  return path.startsWith('/services/data/') ? 'any' : 'other';
}

export const salesforceScenario: CrmScenario = {
  name: 'Salesforce',
  rowsPerRequest: 200,
  throttles: [
    { name: 'Retry-After on a 503 Server Unavailable', fault: { kind: 'rate-limited', retryAfterSeconds: 2 }, minWaitMs: 1900 },
    { name: 'without Retry-After, a second for the concurrent-request limit (REQUEST_LIMIT_EXCEEDED)', fault: { kind: 'rate-limited', policy: 'window' }, minWaitMs: 900 },
  ],
  storm: { name: 'concurrent-request limits (REQUEST_LIMIT_EXCEEDED)', fault: { kind: 'rate-limited', policy: 'window' }, minWaitMs: 900 },
  start: async (options = {}) => (await startSalesforceUnderTest(options)).crm,
};

/** The Salesforce scenario with its emulator at hand, for the tests only Salesforce has (Bulk API 2.0 jobs). */
export async function startSalesforceUnderTest(options: StartOptions & { bulkProcessingDelayMs?: number; dailyApiLimit?: number } = {}): Promise<{ crm: CrmUnderTest; emulator: SalesforceEmulator }> {
  const emulator: SalesforceEmulator = await startSalesforceEmulator({
    clients: [SALESFORCE_CLIENT], objects: [reliabilityInvoice], bulkProcessingDelayMs: options.bulkProcessingDelayMs ?? 20,
    ...(options.dailyApiLimit === undefined ? {} : { dailyApiLimit: options.dailyApiLimit }),
  });
  const { clientId, clientSecret, refreshToken } = SALESFORCE_CLIENT;
  const fixedToken = options.fixedToken ? emulator.issueAccessToken() : undefined;
  const auth = fixedToken
    ? { type: 'access_token', access_token: fixedToken, instance_url: emulator.url }
    : options.oauth
      ? { type: 'refresh_token', client_id: clientId, client_secret: clientSecret, refresh_token: refreshToken }
      : { type: 'client_credentials', client_id: clientId, client_secret: clientSecret };
  const secrets = fixedToken ? [fixedToken] : options.oauth ? [clientSecret, refreshToken] : [clientSecret];
  const crm: CrmUnderTest = {
    name: 'Salesforce',
    secrets,
    // An access token is the org id, "!", and the secret part: neither half may show.
    issuedTokens: /00D[A-Za-z0-9]{12}!|![A-Za-z0-9_-]{40,}/,
    apiRootSetting: 'login_url',
    statusOf: salesforceStatus,
    fieldName: (column) => SALESFORCE_FIELDS[column] ?? column,
    wrongCredentials: () => ({
      crm: { auth: { type: 'client_credentials', client_id: clientId, client_secret: 'sf-refused-secret-2f7a9c1e' } },
      secrets: ['sf-refused-secret-2f7a9c1e'],
    }),
    writeConfig(dir, mode, config = {}) {
      return writeJson(dir, 'config.json', {
        crm: { type: 'salesforce', login_url: emulator.url, auth, api: 'rest', ...config.crm },
        objects: [{
          ...(config.stream ? { stream: config.stream } : {}),
          object: 'Invoice__c',
          mode,
          match: { source: 'invoice_id', destination: 'Invoice_Number__c' },
          fields: Object.entries(SALESFORCE_FIELDS).map(([source, destination]) => ({ source, destination })),
        }],
        state: { path: join(dir, 'state.db') },
        ...config.config,
      });
    },
    rows: invoiceRows,
    key: (row) => String(row.invoice_id),
    expected: (rows) => new Map(rows.map((row) => [String(row.invoice_id), Object.fromEntries(Object.keys(SALESFORCE_FIELDS).map((f) => [f, String(row[f])]))])),
    state() {
      const byKey = new Map<string, Row>();
      const duplicates: string[] = [];
      for (const record of emulator.records('Invoice__c')) {
        const key = String(record.Invoice_Number__c);
        if (byKey.has(key)) duplicates.push(key);
        byKey.set(key, Object.fromEntries(Object.entries(SALESFORCE_FIELDS).map(([column, field]) => [column, record[field] === null ? null : String(record[field])])));
      }
      return { byKey, duplicates };
    },
    seed(rows) {
      emulator.seedRecords('Invoice__c', rows.map((row) => ({ Invoice_Number__c: String(row.invoice_id), Amount__c: 0, Status__c: 'open' })));
    },
    inject: (faults) => emulator.injectFaults(faults.map(salesforceFault)),
    clearFaults: () => emulator.clearFaults(),
    requests: () => emulator.requests.map((r) => ({ target: salesforceTarget(r.path), status: r.status, at: r.at })),
    close: () => emulator.close(),
  };
  return { crm, emulator };
}

export const CRM_SCENARIOS: CrmScenario[] = [hubspotScenario, salesforceScenario];

// ---------------------------------------------------------------------------------------------
// Input helpers shared by the suite.

function invoiceRows(count: number, from = 0): Row[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    return { invoice_id: `INV-${String(n).padStart(6, '0')}`, amount: n + 0.25, status: STATUSES[n % 3], customer_email: `buyer${n}@example.com` };
  });
}

/** Airbyte RECORD lines for one stream, with a per-stream STATE after every `stateEvery` records. */
export function airbyteInput(stream: string, rows: Row[], stateEvery: number): string[] {
  const lines: string[] = [];
  rows.forEach((data, i) => {
    lines.push(JSON.stringify({ type: 'RECORD', record: { stream, data, emitted_at: 1_700_000_000_000 } }));
    if ((i + 1) % stateEvery === 0 || i === rows.length - 1) {
      lines.push(JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: stream }, stream_state: { through: i } } } }));
    }
  });
  return lines;
}

/** The `through` markers of the STATE messages on stdout, in order, and their record counts. */
export function echoedStates(messages: Record<string, any>[]): { through: number[]; records: number; rejected: number } {
  const states = messages.filter((m) => m.type === 'STATE');
  return {
    through: states.map((m) => m.state.stream.stream_state.through),
    records: states.reduce((sum, m) => sum + m.state.destinationStats.recordCount, 0),
    rejected: states.reduce((sum, m) => sum + m.state.destinationStats.rejectedRecordCount, 0),
  };
}

/** The `through` markers a complete run echoes for `count` rows. */
export function allStates(count: number, stateEvery: number): number[] {
  const through: number[] = [];
  for (let i = stateEvery - 1; i < count - 1; i += stateEvery) through.push(i);
  through.push(count - 1);
  return through;
}
