// A CRM the connector cannot reach (nothing listens, the host name does not resolve) is reported
// with the URL it tried and the setting that holds it, so the fix is obvious; the URL shown
// never carries credentials (user info, query string).
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { displayUrl } from '../../src/crm/http/network.ts';
import { errorTraces, runCli, tempDir, writeJson } from '../support/run-cli.ts';

/** A loopback port nothing listens on (one just freed; fetch will not even try port 1): refused at once. */
let REFUSING = '';
beforeAll(async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  REFUSING = `http://127.0.0.1:${port}`;
});
/** `.invalid` never resolves (RFC 2606). */
const UNRESOLVABLE = 'https://crm-activate-test.invalid';
/** One quick retry, so the run ends within the test's time. */
const QUICK = { max_retry_ms: 1000 };

function hubspotConfig(baseUrl: string): string {
  const dir = tempDir();
  return writeJson(dir, 'config.json', {
    crm: { type: 'hubspot', access_token: 'pat-na1-unreachable-0a1b2c3d', base_url: baseUrl, ...QUICK },
    objects: [{ object: 'invoices', mode: 'upsert', match: { source: 'invoice_id', destination: 'invoice_number' } }],
    state: { path: join(dir, 'state.db') },
  });
}

function salesforceConfig(crm: Record<string, unknown>): string {
  const dir = tempDir();
  return writeJson(dir, 'config.json', {
    crm: { type: 'salesforce', ...QUICK, ...crm },
    objects: [{ object: 'Invoice__c', mode: 'upsert', match: { source: 'invoice_id', destination: 'Invoice_Number__c' } }],
    state: { path: join(dir, 'state.db') },
  });
}

async function failureOf(config: string): Promise<string> {
  const run = await runCli(['write', '--config', config], { stdin: [JSON.stringify({ invoice_id: 'INV-1' })] });
  expect(run.code).toBe(1);
  // No row was written: no state may go out.
  expect(run.messages.filter((m) => m.type === 'STATE')).toEqual([]);
  const error = errorTraces(run.messages)[0]?.trace.error;
  expect(error?.failure_type).toBe('transient_error');
  return String(error?.message);
}

describe('an unreachable CRM', () => {
  it('HubSpot: names the URL and crm.base_url, connection refused', async () => {
    expect(await failureOf(hubspotConfig(REFUSING))).toContain(`cannot reach HubSpot at ${REFUSING} (crm.base_url): connection refused`);
  });

  it('HubSpot: names the URL and crm.base_url, host name not found', async () => {
    expect(await failureOf(hubspotConfig(UNRESOLVABLE))).toMatch(/cannot reach HubSpot at https:\/\/crm-activate-test\.invalid \(crm\.base_url\): (host name not found|DNS lookup failed)/);
  });

  it('Salesforce: names the login URL and crm.login_url when the token endpoint cannot be reached', async () => {
    const config = salesforceConfig({ login_url: REFUSING, auth: { type: 'client_credentials', client_id: 'unreachable-client', client_secret: 'unreachable-secret-4d5e' } });
    expect(await failureOf(config)).toContain(`cannot reach Salesforce at ${REFUSING} (crm.login_url): connection refused`);
  });

  it('Salesforce: names the instance URL and crm.auth.instance_url with a fixed access token', async () => {
    const config = salesforceConfig({ auth: { type: 'access_token', access_token: '00D000000000001!unreachable-token', instance_url: REFUSING } });
    expect(await failureOf(config)).toContain(`cannot reach Salesforce at ${REFUSING} (crm.auth.instance_url): connection refused`);
  });

  it('shows a URL without its user info, query string or fragment', () => {
    expect(displayUrl('https://someone:hunter2@crm.example.com:8443/api/?hapikey=abc123#top')).toBe('https://crm.example.com:8443/api/');
    expect(displayUrl('http://127.0.0.1:1')).toBe('http://127.0.0.1:1');
    expect(displayUrl('not a url?token=abc')).toBe('not a url');
  });
});
