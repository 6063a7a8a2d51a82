// What Airbyte and Meltano see from a HubSpot run beyond records and states: a rotated OAuth
// refresh token handed back (CONTROL for Airbyte, the config file for a Singer run), and stream
// statuses, rate limiting included.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { byType, runCli, streamStatuses, writeJson } from '../support/run-cli.ts';
import { hubspotConfig, invoiceRows, startEmulator, UPSERT_BY_NUMBER } from './support.ts';

let emulator: HubSpotEmulator;
afterEach(async () => { await emulator.close(); });

const OAUTH = { clientId: 'client-1', clientSecret: 'client-secret-7f3a9', refreshToken: 'refresh-token-first-5b21' };
const oauthCrm = { access_token: undefined, oauth: { client_id: OAUTH.clientId, client_secret: OAUTH.clientSecret, refresh_token: OAUTH.refreshToken } };

const airbyteRecords = (rows: Record<string, unknown>[], stream = 'invoices') => [
  ...rows.map((data) => JSON.stringify({ type: 'RECORD', record: { stream, data, emitted_at: 0 } })),
  JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: stream }, stream_state: { cursor: 1 } } } }),
];

describe('a rotated OAuth refresh token', () => {
  it('goes back to Airbyte as a CONTROL message with the whole updated config, never to the logs', async () => {
    emulator = await startEmulator({ oauth: { ...OAUTH, rotateRefreshTokens: true } });
    const { path } = hubspotConfig(emulator, UPSERT_BY_NUMBER, oauthCrm);
    const run = await runCli(['check', '--config', path]);
    expect(byType(run.messages, 'CONNECTION_STATUS')[0].connectionStatus).toEqual({ status: 'SUCCEEDED' });
    const [control] = byType(run.messages, 'CONTROL');
    const rotated = emulator.refreshToken();
    expect(rotated).not.toBe(OAUTH.refreshToken);
    expect(control.control).toMatchObject({ type: 'CONNECTOR_CONFIG', connectorConfig: { config: { ...JSON.parse(readFileSync(path, 'utf8')), crm: { type: 'hubspot', oauth: { ...oauthCrm.oauth, refresh_token: rotated } } } } });
    expect(run.stderr).not.toContain(rotated);
    expect(run.stderr).not.toContain(OAUTH.refreshToken);
  });

  it('is written into the config file by a Singer run, so the next run can still log in', async () => {
    emulator = await startEmulator({ oauth: { ...OAUTH, rotateRefreshTokens: true } });
    const { path } = hubspotConfig(emulator, { ...UPSERT_BY_NUMBER, stream: 'invoices' }, oauthCrm);
    const singer = (rows: Record<string, unknown>[]) => [
      JSON.stringify({ type: 'SCHEMA', stream: 'invoices', schema: { type: 'object' }, key_properties: ['invoice_id'] }),
      ...rows.map((record) => JSON.stringify({ type: 'RECORD', stream: 'invoices', record })),
    ];
    const first = await runCli(['--config', path], { stdin: singer(invoiceRows(3)), output: 'singer' });
    expect(first.code, first.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(path, 'utf8'));
    expect(saved.crm.oauth.refresh_token).toBe(emulator.refreshToken());
    expect(first.stderr).toContain('now holds it');
    expect(first.stderr).not.toContain(emulator.refreshToken());
    const second = await runCli(['--config', path], { stdin: singer(invoiceRows(5)), output: 'singer' });
    expect(second.code, second.stderr).toBe(0);
    expect(emulator.records('invoices')).toHaveLength(5);
  });
});

describe('stream statuses', () => {
  it('reports STARTED, RUNNING and COMPLETE for each catalog stream', async () => {
    emulator = await startEmulator();
    const { dir, path } = hubspotConfig(emulator, { ...UPSERT_BY_NUMBER, stream: 'invoices' });
    const catalog = writeJson(dir, 'catalog.json', { streams: [{ stream: { name: 'invoices', json_schema: {}, supported_sync_modes: ['incremental'] }, sync_mode: 'incremental', destination_sync_mode: 'append_dedup' }] });
    const run = await runCli(['write', '--config', path, '--catalog', catalog], { stdin: airbyteRecords(invoiceRows(3)) });
    expect(run.code, run.stderr).toBe(0);
    expect(streamStatuses(run.messages)).toEqual(['invoices:STARTED', 'invoices:RUNNING', 'invoices:COMPLETE']);
    expect(run.messages.map((m) => m.type).at(-1)).toBe('TRACE');
  });

  it('says RUNNING with a RATE_LIMITED reason and the quota reset while HubSpot throttles, then completes', async () => {
    // The connector paces by HubSpot's headers, so it is never over the window by itself: another
    // client of the app spends it, and HubSpot answers the second batch with a 429.
    emulator = await startEmulator();
    emulator.injectFaults([{ kind: 'status', status: 429, policyName: 'TEN_SECONDLY_ROLLING', retryAfterSeconds: 1, match: { pathIncludes: '/batch/' }, every: 2 }]);
    const { path } = hubspotConfig(emulator, { ...UPSERT_BY_NUMBER, stream: 'invoices' });
    const before = Date.now();
    const run = await runCli(['write', '--config', path], { stdin: airbyteRecords(invoiceRows(600)) });
    expect(run.code, run.stderr).toBe(0);
    expect(emulator.requests.some((r) => r.status === 429)).toBe(true);
    expect(emulator.records('invoices')).toHaveLength(600);
    const limited = run.messages.filter((m) => m.trace?.stream_status?.reasons);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0].trace.stream_status).toMatchObject({ status: 'RUNNING', stream_descriptor: { name: 'invoices' }, reasons: [{ type: 'RATE_LIMITED' }] });
    expect(limited[0].trace.stream_status.reasons[0].rate_limited.quota_reset).toBeGreaterThan(before);
    expect(streamStatuses(run.messages).at(-1)).toBe('invoices:COMPLETE');
  });

  it('ends INCOMPLETE with the error when the run fails', async () => {
    emulator = await startEmulator();
    const { path } = hubspotConfig(emulator, { ...UPSERT_BY_NUMBER, stream: 'invoices' }, { access_token: 'pat-na1-not-the-right-one' });
    const run = await runCli(['write', '--config', path], { stdin: airbyteRecords(invoiceRows(2)) });
    expect(run.code).toBe(1);
    expect(streamStatuses(run.messages)).toEqual(['invoices:STARTED', 'invoices:INCOMPLETE']);
  });
});
