// check and discover against the Salesforce emulator, with each way of authenticating.
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../emulators/salesforce/index.ts';
import { byType, runCli } from '../support/run-cli.ts';
import { BY_NUMBER, CLIENT, invoiceObject, salesforceConfig, startOrg } from './support.ts';

let sf: SalesforceEmulator;
beforeEach(async () => { sf = await startOrg(); });
afterEach(async () => { await sf.close(); });

async function check(objectEntry: Record<string, unknown>, crm: Record<string, unknown> = {}) {
  const { path } = salesforceConfig(sf, objectEntry, crm);
  const run = await runCli(['check', '--config', path]);
  expect(run.code, run.stderr).toBe(0);
  return { ...(byType(run.messages, 'CONNECTION_STATUS')[0].connectionStatus as { status: string; message?: string }), output: run.stdout + run.stderr };
}

const UPSERT = { mode: 'upsert', ...BY_NUMBER };

describe('Salesforce check', () => {
  it('succeeds for an existing object, writable fields and an external-id key', async () => {
    expect(await check(UPSERT)).toMatchObject({ status: 'SUCCEEDED' });
    expect(sf.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      // The org's API usage is read once per session, for crm.max_api_usage_percent.
      'POST /services/oauth2/token', 'GET /services/data/v62.0/limits', 'GET /services/data/v62.0/sobjects', 'GET /services/data/v62.0/sobjects/Invoice__c/describe',
    ]);
  });

  it('refuses HubSpot associations and points to lookup fields', async () => {
    const status = await check({ ...UPSERT, associations: [{ to: 'Account', source: 'account_number', match: 'Account_Number__c' }] });
    expect(status).toMatchObject({ status: 'FAILED', message: expect.stringContaining('objects[0].associations links HubSpot records; Salesforce links records through lookup fields') });
  });

  it('names a missing field and suggests the API name users mean', async () => {
    const status = await check({ mode: 'upsert', match: BY_NUMBER.match, fields: [{ source: 'amount', destination: 'Amount' }] });
    expect(status).toMatchObject({ status: 'FAILED', message: 'objects[0]: field "Amount" does not exist on Invoice__c (did you mean "Amount__c"?)' });
  });

  it('names fields the mode cannot write, and says why', async () => {
    const status = await check({
      mode: 'insert', match: { source: 'id' },
      fields: [{ source: 'a', destination: 'Total_With_Tax__c' }, { source: 'b', destination: 'CreatedDate' }, { source: 'c', destination: 'amount__c' }],
    });
    expect(status.status).toBe('FAILED');
    expect(status.message).toBe([
      'objects[0]: field "Total_With_Tax__c" of Invoice__c cannot be written: it is a formula field',
      'objects[0]: field "CreatedDate" of Invoice__c cannot be written: it is read-only',
    ].join('\n'));
  });

  it('checks createable for insert and updateable for update', async () => {
    await sf.close();
    const object = { ...invoiceObject, fields: [...invoiceObject.fields, { name: 'Set_Once__c', type: 'string' as const, updateable: false }, { name: 'Late__c', type: 'string' as const, createable: false }] };
    sf = await startOrg({ objects: [object] });
    const insert = await check({ mode: 'insert', match: { source: 'id' }, fields: [{ source: 'a', destination: 'Set_Once__c' }, { source: 'b', destination: 'Late__c' }] });
    expect(insert.message).toBe('objects[0]: field "Late__c" of Invoice__c cannot be written: it is not createable, so insert cannot set it');
    const update = await check({ mode: 'update', match: { source: 'id', destination: 'Id' }, fields: [{ source: 'a', destination: 'Set_Once__c' }, { source: 'b', destination: 'Late__c' }] });
    expect(update.message).toBe('objects[0]: field "Set_Once__c" of Invoice__c cannot be written: it is not updateable, so update cannot change it');
    const upsert = await check({ ...UPSERT, fields: [{ source: 'a', destination: 'Set_Once__c' }, { source: 'b', destination: 'Late__c' }] });
    expect(upsert.message!.split('\n')).toHaveLength(2);
  });

  it('accepts Id or an external id as the key, and an idLookup field for update only', async () => {
    expect((await check({ mode: 'update', match: { source: 'id', destination: 'Id' } })).status).toBe('SUCCEEDED');
    expect((await check({ mode: 'update', match: { source: 'name', destination: 'Name' } })).status).toBe('SUCCEEDED');
    expect((await check({ mode: 'update', match: { source: 'n', destination: 'Invoice_Number__c' } })).status).toBe('SUCCEEDED');
    expect((await check({ mode: 'insert', match: { source: 'n', destination: 'Invoice_Number__c' } })).status).toBe('SUCCEEDED');

    expect((await check({ mode: 'upsert', match: { source: 'r', destination: 'Region__c' } })).message).toBe(
      'objects[0]: match.destination "Region__c" is not an external-id field of Invoice__c, so Salesforce cannot upsert by it; use one (external-id fields of Invoice__c: Invoice_Number__c) or mark it External ID in Setup',
    );
    expect((await check({ mode: 'upsert', match: { source: 'id', destination: 'Id' } })).message).toContain(
      'match.destination Id works in update mode only: Salesforce assigns record ids, so upsert must match by an external-id field (external-id fields of Invoice__c: Invoice_Number__c)',
    );
    expect((await check({ mode: 'update', match: { source: 'r', destination: 'Notes__c' } })).message).toContain(
      'match.destination "Notes__c" cannot identify Invoice__c records: it is neither Id nor an external-id or ID-lookup field',
    );
    expect((await check({ mode: 'update', match: { source: 'r', destination: 'Invoice_Numbr__c' } })).message).toBe(
      'objects[0]: match.destination "Invoice_Numbr__c" does not exist on Invoice__c (did you mean "Invoice_Number__c"?)',
    );
  });

  it('names a missing object with a suggestion', async () => {
    expect((await check({ ...UPSERT, object: 'Invoice' })).message).toBe(
      'objects[0]: object "Invoice" does not exist in Salesforce or this user cannot see it (did you mean "Invoice__c"?)',
    );
  });

  it('fails on refused client credentials without echoing the secret', async () => {
    const status = await check(UPSERT, { auth: { type: 'client_credentials', client_id: CLIENT.clientId, client_secret: 'wrong-secret-abcdef' } });
    expect(status.status).toBe('FAILED');
    expect(status.message).toContain('Salesforce refused the OAuth client credentials grant');
    expect(status.message).toContain('invalid_client');
    expect(status.output).not.toContain('wrong-secret-abcdef');
  });

  it('authenticates with a refresh token, a JWT bearer assertion or a given access token', async () => {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    await sf.close();
    sf = await startOrg({ clients: [{ ...CLIENT, username: 'sync@example.com', publicKeyPem: keys.publicKey }] });

    const refresh = await check(UPSERT, { auth: { type: 'refresh_token', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, refresh_token: CLIENT.refreshToken } });
    expect(refresh.status).toBe('SUCCEEDED');
    expect(sf.requests[0].body).toMatchObject({ grant_type: 'refresh_token', refresh_token: CLIENT.refreshToken });

    sf.clearRequests();
    // Line breaks written as \n, as environment variables and UI fields carry them.
    const privateKey = keys.privateKey.replace(/\n/g, '\\n');
    expect((await check(UPSERT, { auth: { type: 'jwt_bearer', client_id: CLIENT.clientId, username: 'sync@example.com', private_key: privateKey } })).status).toBe('SUCCEEDED');
    expect(sf.requests[0].body).toMatchObject({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' });

    const token = sf.issueAccessToken();
    const given = await check(UPSERT, { auth: { type: 'access_token', access_token: token, instance_url: sf.url } });
    expect(given.status).toBe('SUCCEEDED');
    expect(given.output).not.toContain(token);

    const wrongUser = await check(UPSERT, { auth: { type: 'jwt_bearer', client_id: CLIENT.clientId, username: 'someone@example.com', private_key: keys.privateKey } });
    expect(wrongUser.message).toContain("invalid_grant: user hasn't approved this consumer");
  });

  it('fails on an expired access token with a config error that says what to do', async () => {
    const status = await check(UPSERT, { auth: { type: 'access_token', access_token: '00D000000000001!expired-token-value', instance_url: sf.url } });
    expect(status.status).toBe('FAILED');
    expect(status.message).toContain('Salesforce refused the session (INVALID_SESSION_ID: Session expired or invalid)');
    expect(status.output).not.toContain('expired-token-value');
  });
});

describe('Salesforce discover', () => {
  it('emits per custom object its operations and a typed json_schema', async () => {
    const { path } = salesforceConfig(sf, UPSERT);
    const run = await runCli(['discover', '--config', path]);
    expect(run.code, run.stderr).toBe(0);
    const [catalog] = byType(run.messages, 'DESTINATION_CATALOG');
    const operations = catalog.destination_catalog.operations as Record<string, any>[];
    expect(operations.map((o) => `${o.object_name}:${o.sync_mode}`)).toEqual([
      'Invoice__c:append', 'Invoice__c:append_dedup', 'Invoice__c:update', 'Invoice__c:soft_delete',
    ]);
    expect(operations[1].matching_keys).toEqual([['Invoice_Number__c']]);
    expect(operations[2].matching_keys).toEqual([['Id'], ['Invoice_Number__c']]);
    const { properties } = operations[0].json_schema;
    expect(properties.Amount__c.type).toEqual(['number', 'null']);
    expect(properties.Due_Date__c).toMatchObject({ type: ['string', 'null'], format: 'date' });
    expect(properties.Issued_At__c).toMatchObject({ format: 'date-time', airbyte_type: 'timestamp_with_timezone' });
    expect(properties.Is_Overdue__c.type).toEqual(['boolean', 'null']);
    expect(properties.Status__c.enum).toEqual(['Open', 'Paid', 'Void', null]);
    expect(properties.Tags__c).toMatchObject({ type: ['array', 'string', 'null'], items: { enum: ['Priority', 'Recurring', 'Disputed'] } });
    expect(properties.Region__c).toMatchObject({ type: ['string', 'null'], maxLength: 20 });
    expect(properties.Total_With_Tax__c).toBeUndefined();
    expect(properties.CreatedDate).toBeUndefined();
  });
});
