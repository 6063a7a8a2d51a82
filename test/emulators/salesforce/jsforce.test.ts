// jsforce 3, unchanged, against the emulator: the three OAuth flows, describe, SOQL with queryMore,
// sObject Collections and Bulk API 2.0 loads with their parsed result files.
import { generateKeyPairSync, sign } from 'node:crypto';
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../../emulators/salesforce/index.ts';
import { CLIENT, invoice, startOrg, tokenConnection } from './fixtures.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

function jwtAssertion(privateKey: string, claims: Record<string, unknown>): string {
  const encode = (part: unknown) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256' })}.${encode(claims)}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), privateKey).toString('base64url')}`;
}

describe('OAuth flows through jsforce', () => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  let sf: SalesforceEmulator;

  beforeAll(async () => {
    sf = await startOrg({ clients: [{ ...CLIENT, publicKeyPem: keys.publicKey }] });
  });
  afterAll(() => sf.close());

  function oauthConnection(): jsforce.Connection {
    return new jsforce.Connection({ oauth2: { loginUrl: sf.url, clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret }, version: '62.0' });
  }

  it('client credentials: authorize, then call the API at the instance URL it was given', async () => {
    const conn = oauthConnection();
    const user = await conn.authorize({ grant_type: 'client_credentials' });
    expect(conn.instanceUrl).toBe(sf.url);
    expect(user.organizationId).toMatch(/^00D/);
    const global = await conn.describeGlobal();
    expect(global.sobjects.map((s) => s.name)).toEqual(expect.arrayContaining(['Invoice__c', 'Account']));
  });

  it('client credentials with a wrong secret is refused with invalid_client', async () => {
    const conn = new jsforce.Connection({ oauth2: { loginUrl: sf.url, clientId: CLIENT.clientId, clientSecret: 'wrong' } });
    await expect(conn.authorize({ grant_type: 'client_credentials' })).rejects.toMatchObject({ name: 'invalid_client' });
  });

  it('refresh token flow', async () => {
    const conn = oauthConnection();
    const token = await conn.oauth2.refreshToken(CLIENT.refreshToken);
    expect(token.access_token).toBeTruthy();
    await expect(conn.oauth2.refreshToken('not-the-token')).rejects.toMatchObject({ name: 'invalid_grant' });
  });

  it('JWT bearer flow checks signature, audience and expiry', async () => {
    const claims = { iss: CLIENT.clientId, sub: CLIENT.username, aud: sf.url, exp: Math.floor(Date.now() / 1000) + 180 };
    const conn = oauthConnection();
    await conn.authorize({ grant_type: JWT_BEARER, assertion: jwtAssertion(keys.privateKey, claims) });
    expect((await conn.query('SELECT COUNT() FROM Invoice__c')).totalSize).toBe(0);

    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const refusals: [string, Record<string, unknown>, string][] = [
      ['invalid assertion', claims, other.privateKey],
      ['audience is invalid', { ...claims, aud: 'https://example.com' }, keys.privateKey],
      ['expired authorization code', { ...claims, exp: 1000 }, keys.privateKey],
    ];
    for (const [description, badClaims, key] of refusals) {
      await expect(oauthConnection().authorize({ grant_type: JWT_BEARER, assertion: jwtAssertion(key, badClaims) })).rejects.toThrow(description);
    }
  });
});

describe('REST API through jsforce', () => {
  let sf: SalesforceEmulator;
  let conn: jsforce.Connection;

  beforeAll(async () => {
    sf = await startOrg();
    conn = tokenConnection(sf);
    conn.bulk2.pollInterval = 20;
  });
  afterAll(() => sf.close());

  it('describes a custom object with its standard and custom fields', async () => {
    const described = await conn.sobject('Invoice__c').describe();
    const field = (name: string) => described.fields.find((f) => f.name === name)!;
    expect(described).toMatchObject({ name: 'Invoice__c', custom: true, createable: true, queryable: true, keyPrefix: 'a00' });
    expect(field('Id')).toMatchObject({ type: 'id', idLookup: true, createable: false });
    expect(field('Name')).toMatchObject({ type: 'string', length: 80, createable: true, updateable: true });
    expect(field('Invoice_Number__c')).toMatchObject({ externalId: true, unique: true, idLookup: true, soapType: 'xsd:string', length: 40 });
    expect(field('Amount__c')).toMatchObject({ type: 'currency', precision: 16, scale: 2, soapType: 'xsd:double' });
    expect(field('Status__c').picklistValues.map((p) => p.value)).toEqual(['Draft', 'Sent', 'Paid']);
    expect(field('Region__c')).toMatchObject({ nillable: false, defaultedOnCreate: false, createable: true });
    expect(field('Total_With_Tax__c')).toMatchObject({ calculated: true, createable: false, updateable: false });
    for (const name of ['OwnerId', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp', 'IsDeleted']) expect(field(name)).toBeDefined();
  });

  it('follows nextRecordsUrl in batches of 2000 (autoFetch)', async () => {
    sf.seedRecords('Invoice__c', Array.from({ length: 4500 }, (_, i) => invoice(90000 + i, { Region__c: 'SEED' })));
    sf.clearRequests();
    const result = await conn.query("SELECT Id, Invoice_Number__c FROM Invoice__c WHERE Region__c = 'SEED'", { autoFetch: true, maxFetch: 10000 });
    expect(result.records).toHaveLength(4500);
    expect(new Set(result.records.map((r) => r.Id)).size).toBe(4500);
    const paths = sf.requests.map((r) => r.path);
    expect(paths.filter((p) => /\/query\/01g[A-Za-z0-9]{15}-\d+$/.test(p))).toHaveLength(2);
  });

  it('creates, updates, upserts and deletes through sObject Collections with partial success', async () => {
    const invoices = conn.sobject('Invoice__c');
    const created = await invoices.create([invoice(1), invoice(2, { Status__c: 'Unknown' })], { allOrNone: false });
    expect(created[0]).toMatchObject({ success: true, errors: [] });
    expect(created[1]).toMatchObject({ success: false, errors: [{ statusCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST' }] });

    const id = created[0].id!;
    const updated = await invoices.update([{ Id: id, Amount__c: 99 }], { allOrNone: false });
    expect(updated).toEqual([{ id, success: true, errors: [] }]);

    const upserted = await invoices.upsert([invoice(1, { Notes__c: 'again' }), invoice(3)], 'Invoice_Number__c', { allOrNone: false });
    expect(upserted.map((r) => [r.success, r.created])).toEqual([[true, false], [true, true]]);
    expect(upserted[0].id).toBe(id);
    expect(sf.records('Invoice__c').find((r) => r.Id === id)).toMatchObject({ Amount__c: 1.5, Notes__c: 'again' });

    const deleted = await invoices.destroy([id], { allOrNone: false });
    expect(deleted).toEqual([{ id, success: true, errors: [] }]);
    const again = await invoices.update([{ Id: id, Amount__c: 1 }], { allOrNone: false });
    expect(again[0].errors[0]).toMatchObject({ statusCode: 'ENTITY_IS_DELETED' });
  });

  it('bulk2 insert of 5,000 rows, with successfulResults and failedResults parsed by jsforce', async () => {
    // jsforce takes the CSV columns from the first row, so every row carries every column.
    const rows = Array.from({ length: 5000 }, (_, i) => invoice(10000 + i, { Is_Overdue__c: i % 2 === 0, Issued_On__c: '2024-02-29', Status__c: 'Draft' }));
    rows[7] = { ...rows[7], Region__c: null };
    rows[8] = { ...rows[8], Status__c: 'Lost' };
    const results = await conn.bulk2.loadAndWaitForResults({ object: 'Invoice__c', operation: 'insert', input: rows });
    expect(results.successfulResults).toHaveLength(4998);
    expect(results.failedResults).toHaveLength(2);
    expect(results.unprocessedRecords).toHaveLength(0);
    // Results come in no particular order: found by the key they echo.
    const first = results.successfulResults.find((r) => r.Invoice_Number__c === 'INV-10000')!;
    expect(first).toMatchObject({ sf__Created: 'true' });
    expect(first.sf__Id).toMatch(/^a00[A-Za-z0-9]{15}$/);
    const errors = results.failedResults.map((r) => r.sf__Error).sort();
    expect(errors[0]).toMatch(/^INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Status: bad value for restricted picklist field: Lost:Status__c --/);
    expect(errors[1]).toBe('REQUIRED_FIELD_MISSING:Required fields are missing: [Region__c]:Region__c --');
    const stored = sf.records('Invoice__c').find((r) => r.Invoice_Number__c === 'INV-10000');
    expect(stored).toMatchObject({ Is_Overdue__c: true, Issued_On__c: '2024-02-29', Amount__c: 10000.5 });
  });

  it('bulk2 upsert on the external id updates matches and creates the rest', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => invoice(12500 + i, { Notes__c: 'bulk upsert' }));
    const before = sf.records('Invoice__c').length;
    const results = await conn.bulk2.loadAndWaitForResults({ object: 'Invoice__c', operation: 'upsert', externalIdFieldName: 'Invoice_Number__c', input: rows });
    expect(results.failedResults).toHaveLength(0);
    const created = results.successfulResults.filter((r) => r.sf__Created === 'true');
    expect(created).toHaveLength(2500);
    expect(sf.records('Invoice__c').length).toBe(before + 2500);
    expect(sf.records('Invoice__c').find((r) => r.Invoice_Number__c === 'INV-12500')).toMatchObject({ Notes__c: 'bulk upsert' });
  });
});
