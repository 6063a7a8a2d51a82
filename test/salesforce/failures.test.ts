// What a run does when Salesforce says no to the session, the daily allowance or the request:
// renew an expired session once, stop cleanly on the daily limit, retry only what is safe to repeat.
import { afterEach, describe, expect, it } from 'vitest';
import type { SalesforceEmulator, SalesforceEmulatorOptions } from '../../emulators/salesforce/index.ts';
import { byType, runCli, summaryOf } from '../support/run-cli.ts';
import { BY_NUMBER, invoiceRows, jsonl, salesforceConfig, startOrg } from './support.ts';

let sf: SalesforceEmulator;
afterEach(async () => { await sf.close(); });

async function org(options: SalesforceEmulatorOptions = {}) {
  sf = await startOrg(options);
  return sf;
}

const tokenRequests = (emulator: SalesforceEmulator) => emulator.requests.filter((r) => r.path === '/services/oauth2/token');
const calls = (emulator: SalesforceEmulator, method: string, pathEnd: string) => emulator.requests.filter((r) => r.method === method && r.path.endsWith(pathEnd));
const UPSERT = { mode: 'upsert', ...BY_NUMBER };

function traceOf(messages: Record<string, any>[]) {
  return byType(messages, 'TRACE')[0]?.trace.error as { failure_type: string; message: string } | undefined;
}

describe('Salesforce sessions', () => {
  it('renews an expired session once and carries on', async () => {
    await org();
    sf.injectFaults([{ kind: 'expire-session', match: { pathIncludes: '/composite/sobjects' } }]);
    const { path } = salesforceConfig(sf, UPSERT);
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(150)) });
    expect(run.code, run.stderr).toBe(0);
    expect(sf.records('Invoice__c')).toHaveLength(150);
    expect(tokenRequests(sf)).toHaveLength(2);
    expect(calls(sf, 'PATCH', '/Invoice_Number__c').map((r) => r.status)).toEqual([401, 200]);
  });

  it('renews an expired session for a create too: refused before it was applied, it is sent again at once', async () => {
    await org();
    sf.injectFaults([{ kind: 'expire-session', match: { method: 'POST', pathIncludes: '/composite/sobjects' } }]);
    const { path } = salesforceConfig(sf, { mode: 'insert', ...BY_NUMBER });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(20)) });
    expect(run.code, run.stderr).toBe(0);
    expect(sf.records('Invoice__c')).toHaveLength(20);
    expect(calls(sf, 'POST', '/composite/sobjects').map((r) => r.status)).toEqual([401, 200]);
  });

  it('stops with a config error when even the renewed session is refused', async () => {
    await org();
    sf.injectFaults([{ kind: 'expire-session', match: { pathIncludes: '/composite/sobjects' }, times: 2 }]);
    const { path } = salesforceConfig(sf, UPSERT);
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(10)) });
    expect(run.code).toBe(1);
    expect(traceOf(run.messages)).toMatchObject({
      failure_type: 'config_error',
      message: expect.stringContaining('Salesforce refused the session (INVALID_SESSION_ID: Session expired or invalid): even after refreshing it'),
    });
    expect(tokenRequests(sf)).toHaveLength(2);
  });

  it('cannot renew a given access token: a config error saying so', async () => {
    await org();
    const token = sf.issueAccessToken();
    sf.injectFaults([{ kind: 'expire-session', match: { pathIncludes: '/composite/sobjects' } }]);
    const { path } = salesforceConfig(sf, UPSERT, { auth: { type: 'access_token', access_token: token, instance_url: sf.url } });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(10)) });
    expect(run.code).toBe(1);
    expect(traceOf(run.messages)?.failure_type).toBe('config_error');
    expect(traceOf(run.messages)?.message).toContain('the configured access token has expired or is invalid');
    expect(run.stdout + run.stderr).not.toContain(token);
  });
});

describe('Salesforce limits and server errors', () => {
  it('stops cleanly before the daily API limit, keeping what was written, and says when to rerun', async () => {
    // Limits, listing and describe take three requests; two 200-row collection calls fit, the third
    // would be refused: with crm.max_api_usage_percent at 100 the run stops before sending it.
    // (The org refusing a call, 403 TotalRequests, is in test/reliability/retries.test.ts.)
    await org({ dailyApiLimit: 5 });
    const { path } = salesforceConfig(sf, UPSERT, { api: 'rest', max_api_usage_percent: 100 });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(1000)) });
    expect(run.code).toBe(1);
    const trace = traceOf(run.messages)!;
    expect(trace.failure_type).toBe('transient_error');
    // Used, or used and under way (the two calls may still be out when the third is due): five in all.
    expect(trace.message).toMatch(/the Salesforce org has used (5 of 5 daily API requests \(100 %\)|\d of 5 daily API requests \(\d+ %\) with \d more under way or reserved):/);
    expect(trace.message).toContain('Rerun once');
    expect(sf.records('Invoice__c')).toHaveLength(400);
    expect(sf.requests.filter((r) => r.status === 403)).toEqual([]);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 1000, created: 400 });
  });

  it('retries an upsert Salesforce answered with 503, since repeating it is safe', async () => {
    await org();
    sf.injectFaults([{ kind: 'status', status: 503, match: { pathIncludes: '/Invoice_Number__c' } }]);
    const { path } = salesforceConfig(sf, UPSERT);
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(150)) });
    expect(run.code, run.stderr).toBe(0);
    expect(calls(sf, 'PATCH', '/Invoice_Number__c').map((r) => r.status)).toEqual([503, 200]);
    expect(sf.records('Invoice__c')).toHaveLength(150);
  });

  it('settles a create whose answer was lost by reading its keys back: nothing is sent twice', async () => {
    await org();
    sf.injectFaults([{ kind: 'reset-after', match: { method: 'POST', pathIncludes: '/composite/sobjects' } }]);
    const { path } = salesforceConfig(sf, { mode: 'insert', ...BY_NUMBER });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(20)) });
    expect(run.code, run.stderr).toBe(0);
    expect(calls(sf, 'POST', '/composite/sobjects')).toHaveLength(1);
    expect(sf.records('Invoice__c')).toHaveLength(20);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 20, created: 20, unknown: 0 });
  });

  it('without a key that identifies records, reports a create whose answer was lost as unknown_outcome and holds its states', async () => {
    await org();
    sf.injectFaults([{ kind: 'reset-after', match: { method: 'POST', pathIncludes: '/composite/sobjects' } }]);
    const { path } = salesforceConfig(sf, { mode: 'insert', match: { source: 'invoice_id' }, fields: [{ source: 'invoice_id', destination: 'Invoice_Number__c' }, { source: 'region', destination: 'Region__c' }] });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(20)) });
    expect(run.code).toBe(1);
    expect(traceOf(run.messages)).toMatchObject({ failure_type: 'transient_error', message: expect.stringContaining('20 row(s) may or may not have been written') });
    expect(calls(sf, 'POST', '/composite/sobjects')).toHaveLength(1);
    expect(sf.records('Invoice__c')).toHaveLength(20);
    expect(summaryOf(run.stderr)['Invoice__c']).toMatchObject({ received: 20, created: 0, unknown: 20 });
    expect(run.stderr).toContain('unknown_outcome');
  });

  it('retries a Bulk API poll or upload that met a server error', async () => {
    await org({ bulkProcessingDelayMs: 5 });
    sf.injectFaults([
      { kind: 'status', status: 500, match: { method: 'PUT', pathIncludes: '/batches' } },
      { kind: 'status', status: 502, match: { method: 'GET', pathIncludes: '/jobs/ingest/' } },
    ]);
    const { path } = salesforceConfig(sf, UPSERT, { api: 'bulk' });
    const run = await runCli(['write', '--config', path], { stdin: jsonl(invoiceRows(300)) });
    expect(run.code, run.stderr).toBe(0);
    expect(sf.records('Invoice__c')).toHaveLength(300);
    expect(calls(sf, 'PUT', '/batches').map((r) => r.status)).toEqual([500, 201]);
  });
});
