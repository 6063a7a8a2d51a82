// check and discover against the HubSpot emulator.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotEmulator } from '../../emulators/hubspot/index.ts';
import { byType, runCli } from '../support/run-cli.ts';
import { hubspotConfig, startEmulator, TOKEN, UPSERT_BY_NUMBER } from './support.ts';

let emulator: HubSpotEmulator;
beforeEach(async () => { emulator = await startEmulator(); });
afterEach(async () => { await emulator.close(); });

async function check(objectEntry: Record<string, unknown>, crm: Record<string, unknown> = {}) {
  const { path } = hubspotConfig(emulator, objectEntry, crm);
  const run = await runCli(['check', '--config', path]);
  expect(run.code).toBe(0);
  return byType(run.messages, 'CONNECTION_STATUS')[0].connectionStatus as { status: string; message?: string };
}

describe('HubSpot check', () => {
  it('succeeds for an existing object, writable properties and a unique matching key', async () => {
    expect(await check({ ...UPSERT_BY_NUMBER, fields: [{ source: 'a', destination: 'amount' }] })).toEqual({ status: 'SUCCEEDED' });
  });

  it('finds the object by objectTypeId and fully qualified name too', async () => {
    const schema = emulator.schema('invoices')!;
    expect(await check({ ...UPSERT_BY_NUMBER, object: schema.objectTypeId })).toEqual({ status: 'SUCCEEDED' });
    expect(await check({ ...UPSERT_BY_NUMBER, object: schema.fullyQualifiedName })).toEqual({ status: 'SUCCEEDED' });
  });

  it('names a missing property and suggests the closest one', async () => {
    const status = await check({ ...UPSERT_BY_NUMBER, fields: [{ source: 'a', destination: 'amout' }] });
    expect(status.status).toBe('FAILED');
    expect(status.message).toBe('objects[0]: property "amout" does not exist on invoices (did you mean "amount"?)');
  });

  it('refuses a lookup on a field: a Salesforce feature, where HubSpot links records by associations', async () => {
    const status = await check({ ...UPSERT_BY_NUMBER, fields: [{ source: 'a', destination: 'amount' }, { source: 'customer', destination: 'customer_id', lookup: { object: 'contacts', match: 'email' } }] });
    expect(status).toEqual({
      status: 'FAILED',
      message: 'objects[0]: fields[] "customer_id" has a lookup, which only Salesforce supports (a reference field set through its parent\'s key); on HubSpot link records with objects[].associations and map "customer_id" without lookup',
    });
  });

  it('names a read-only or calculated property', async () => {
    const status = await check({ ...UPSERT_BY_NUMBER, fields: [{ source: 'a', destination: 'amount_with_tax' }, { source: 'b', destination: 'hs_createdate' }] });
    expect(status.message).toContain('property "amount_with_tax" of invoices cannot be written: it is calculated');
    expect(status.message).toContain('property "hs_createdate" of invoices cannot be written: it is read-only');
  });

  it('refuses to upsert by a property without unique values', async () => {
    const status = await check({ mode: 'upsert', match: { source: 'email', destination: 'customer_email' } });
    expect(status.message).toContain('match.destination "customer_email" does not hold unique values');
    expect(status.message).toContain('unique-value properties of invoices: invoice_number');
  });

  it('names a required property an insert mapping leaves out', async () => {
    const status = await check({ mode: 'insert', match: { source: 'invoice_id' }, fields: [{ source: 'amount', destination: 'amount' }] });
    expect(status).toEqual({
      status: 'FAILED',
      message: 'objects[0]: required property "invoice_number" of invoices is not mapped: HubSpot refuses to create a record without it',
    });
  });

  it('names a missing object with a suggestion', async () => {
    const status = await check({ ...UPSERT_BY_NUMBER, object: 'invoice' });
    expect(status.message).toBe('objects[0]: custom object "invoice" does not exist in HubSpot (did you mean "invoices"?)');
  });

  it('fails on a refused token without echoing it', async () => {
    const { path } = hubspotConfig(emulator, UPSERT_BY_NUMBER, { access_token: 'pat-na1-wrong-token-abcdef' });
    const run = await runCli(['check', '--config', path]);
    expect(run.messages[0].connectionStatus.status).toBe('FAILED');
    expect(run.messages[0].connectionStatus.message).toContain('401');
    expect(run.stdout + run.stderr).not.toContain('pat-na1-wrong-token-abcdef');
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });

  it('works with OAuth: fetches an access token with the refresh token', async () => {
    await emulator.close();
    emulator = await startEmulator({ oauth: { clientId: 'client-1', clientSecret: 'secret-1-abcdef', refreshToken: 'refresh-1-abcdef' } });
    const status = await check(UPSERT_BY_NUMBER, { access_token: undefined, oauth: { client_id: 'client-1', client_secret: 'secret-1-abcdef', refresh_token: 'refresh-1-abcdef' } });
    expect(status).toEqual({ status: 'SUCCEEDED' });
    expect(emulator.requests.some((r) => r.path === '/oauth/v1/token')).toBe(true);
  });
});

describe('HubSpot discover', () => {
  it('emits one DESTINATION_CATALOG with the operations and a typed json_schema', async () => {
    const { path } = hubspotConfig(emulator, UPSERT_BY_NUMBER);
    const run = await runCli(['discover', '--config', path]);
    expect(run.code, run.stderr).toBe(0);
    const [catalog] = byType(run.messages, 'DESTINATION_CATALOG');
    const operations = catalog.destination_catalog.operations as Record<string, any>[];
    const fqn = emulator.schema('invoices')!.fullyQualifiedName;
    expect(operations.map((o) => `${o.object_name}:${o.sync_mode}`)).toEqual([
      `${fqn}:append`, `${fqn}:append_dedup`, `${fqn}:update`, `${fqn}:soft_delete`,
    ]);
    expect(operations[1].matching_keys).toEqual([['invoice_number']]);
    const { properties } = operations[0].json_schema;
    expect(properties.amount.type).toEqual(['number', 'null']);
    expect(properties.due_date.format).toBe('date');
    expect(properties.status.enum).toEqual(['open', 'paid', 'void', null]);
    expect(properties.amount_with_tax).toBeUndefined();
  });
});
