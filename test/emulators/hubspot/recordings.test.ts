// Replays the exchanges recorded against the real HubSpot API (hotgluexyz/target-hubspot-v4 @
// 1be66528, __smoke-tests__/*/fixtures/vcr.yaml; see shared/reference/hubspot/recordings) against
// the emulator and compares status codes, headers and body shapes. The recordings are not copied:
// each exchange below is restated as facts (the request's form, the status, the keys and types of
// the answer) in our own words and values.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../../emulators/hubspot/index.ts';

const OAUTH = { clientId: 'client-1', clientSecret: 'secret-1', refreshToken: 'refresh-1' };
// The recorded portal ran an OAuth app with a 110 per 10 s budget and 11 per second.
const RATE_LIMIT = { max: 110, intervalMs: 10_000, secondly: 11 };
const RATE_LIMIT_HEADERS = [
  'x-hubspot-ratelimit-interval-milliseconds', 'x-hubspot-ratelimit-max', 'x-hubspot-ratelimit-remaining',
  'x-hubspot-ratelimit-secondly', 'x-hubspot-ratelimit-secondly-remaining',
];

/** A body's skeleton: 'string' | 'number' | 'boolean' | 'any-object' | [element] | { key: skeleton }. */
type Shape = string | Shape[] | { [key: string]: Shape };

const RECORD: Shape = { id: 'string', properties: 'any-object', createdAt: 'string', updatedAt: 'string', archived: 'boolean', url: 'string' };
const TRACED_RECORD: Shape = { ...RECORD, objectWriteTraceId: 'string' };
const BATCH_OK = (result: Shape): Shape => ({ status: 'string', results: [result], startedAt: 'string', completedAt: 'string' });
const BATCH_ERROR: Shape = { status: 'string', category: 'string', message: 'string', context: { objectWriteTraceId: ['string'] } };
const BATCH_PARTIAL = (result: Shape): Shape => ({ ...(BATCH_OK(result) as object), errors: [BATCH_ERROR], numErrors: 'number' });
const REQUEST_ERROR: Shape = { status: 'string', message: 'string', correlationId: 'string', category: 'string' };

/** Differences between a value and a skeleton, as paths; empty when the value has the shape. */
function shapeDifferences(value: unknown, shape: Shape, path = '$'): string[] {
  if (shape === 'any-object') return typeof value === 'object' && value !== null && !Array.isArray(value) ? [] : [`${path}: not an object`];
  if (typeof shape === 'string') return typeof value === shape ? [] : [`${path}: ${typeof value}, recorded ${shape}`];
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${path}: not an array`];
    return value.flatMap((item, i) => shapeDifferences(item, shape[0], `${path}[${i}]`));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: not an object`];
  const keys = new Set([...Object.keys(value), ...Object.keys(shape)]);
  return [...keys].flatMap((key) => {
    if (!(key in shape)) return [`${path}.${key}: not in the recording`];
    if (!(key in value)) return [`${path}.${key}: missing`];
    return shapeDifferences((value as Record<string, unknown>)[key], shape[key], `${path}.${key}`);
  });
}

let emulator: HubSpotEmulator;
let token: string;
beforeEach(async () => {
  emulator = await startHubSpotEmulator({ oauth: OAUTH, rateLimit: RATE_LIMIT, accessTokens: [] });
  token = (await exchangeRefreshToken()).body.access_token;
});
afterEach(async () => { await emulator.close(); });

async function exchangeRefreshToken() {
  const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: OAUTH.clientId, client_secret: OAUTH.clientSecret, refresh_token: OAUTH.refreshToken });
  const response = await fetch(`${emulator.url}/oauth/v1/token`, { method: 'POST', body: form });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text === '' ? undefined : JSON.parse(text);
  expect(response.headers.get('x-hubspot-correlation-id')).toBeTruthy();
  return { status: response.status, headers: response.headers, body: json };
}

/** The problems a VALIDATION_ERROR message embeds as a JSON array after its prefix. */
function embeddedProblems(message: string): Record<string, unknown>[] {
  expect(message.startsWith('Property values were not valid: ')).toBe(true);
  return JSON.parse(message.slice('Property values were not valid: '.length));
}

function seedCompany(properties: Record<string, string>): string {
  return emulator.seedRecords('companies', [properties])[0].id;
}

describe('recorded HubSpot exchanges, replayed against the emulator', () => {
  it('OAuth refresh (every cassette): 200 with a bearer token, the hub id, scopes and 1800 s', async () => {
    const answer = await exchangeRefreshToken();
    expect(answer.status).toBe(200);
    expect(shapeDifferences(answer.body, {
      token_type: 'string', refresh_token: 'string', access_token: 'string', hub_id: 'number', scopes: ['string'], token_use: 'string', expires_in: 'number',
    })).toEqual([]);
    expect(answer.body).toMatchObject({ token_type: 'bearer', token_use: 'access_token', expires_in: 1800, hub_id: emulator.portalId });
    // The token endpoint carries no rate-limit headers.
    expect(answer.headers.get('x-hubspot-ratelimit-max')).toBeNull();
  });

  it('batch_company_create_test: batch/create answers 201 with traced results', async () => {
    const answer = await call('POST', '/crm/v3/objects/companies/batch/create', {
      inputs: [{ objectWriteTraceId: 't-1', properties: { domain: 'one.example.com' } }, { objectWriteTraceId: 't-2', properties: { domain: 'two.example.com' } }],
    });
    expect(answer.status).toBe(201);
    expect(shapeDifferences(answer.body, BATCH_OK(TRACED_RECORD))).toEqual([]);
    expect(answer.body.status).toBe('COMPLETE');
    expect(answer.body.results.map((r: { objectWriteTraceId: string }) => r.objectWriteTraceId).sort()).toEqual(['t-1', 't-2']);
    expect(answer.body.results[0].url).toBe(`https://app.hubspot.com/contacts/${emulator.portalId}/record/0-2/${answer.body.results[0].id}`);
    for (const header of RATE_LIMIT_HEADERS) expect(answer.headers.get(header), header).not.toBeNull();
    expect(answer.headers.get('x-hubspot-ratelimit-max')).toBe('110');
    expect(answer.headers.get('x-hubspot-ratelimit-secondly')).toBe('11');
  });

  it('batch_company_partial_error_test: an invalid option makes a 207 tying the error to its input by trace id', async () => {
    const answer = await call('POST', '/crm/v3/objects/companies/batch/create', {
      inputs: [
        { objectWriteTraceId: 'good', properties: { domain: 'ok.example.com' } },
        { objectWriteTraceId: 'bad', properties: { domain: 'bad.example.com', industry: 'NOT_AN_INDUSTRY' } },
      ],
    });
    expect(answer.status).toBe(207);
    expect(shapeDifferences(answer.body, BATCH_PARTIAL(TRACED_RECORD))).toEqual([]);
    expect(answer.body).toMatchObject({ numErrors: 1, results: [{ objectWriteTraceId: 'good' }] });
    const [error] = answer.body.errors;
    expect(error).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR', context: { objectWriteTraceId: ['bad'] } });
    const problems = embeddedProblems(error.message);
    expect(shapeDifferences(problems, [{
      isValid: 'boolean', message: 'string', error: 'string', name: 'string', localizedErrorMessage: 'string', propertyValue: 'string', portalId: 'number',
    }])).toEqual([]);
    expect(problems[0]).toMatchObject({ isValid: false, error: 'INVALID_OPTION', name: 'industry', propertyValue: 'NOT_AN_INDUSTRY', portalId: emulator.portalId });
    expect(problems[0].message).toMatch(/^NOT_AN_INDUSTRY was not one of the allowed options: \[.*COMPUTER_SOFTWARE.*\]$/);
    expect(emulator.records('companies').map((r) => r.properties.domain)).toEqual(['ok.example.com']);
  });

  it('batch_company_upsert_test: upsert by a non-unique property fails the whole request with 400', async () => {
    const answer = await call('POST', '/crm/v3/objects/companies/batch/upsert', {
      inputs: [{ objectWriteTraceId: 'u', id: 'Acme', idProperty: 'name', properties: { name: 'Acme', domain: 'acme.example.com' } }],
    });
    expect(answer.status).toBe(400);
    expect(shapeDifferences(answer.body, REQUEST_ERROR)).toEqual([]);
    expect(answer.body).toMatchObject({
      status: 'error', category: 'VALIDATION_ERROR',
      message: `Unable to perform update/upsert by non-unique 0-2 property name in portal ID ${emulator.portalId}`,
    });
    expect(emulator.records('companies')).toHaveLength(0);
  });

  it('batch_company_upsert_test (fallback): a single create answers 201 with a Location header', async () => {
    const answer = await call('POST', '/crm/v3/objects/companies', { properties: { name: 'Acme', domain: 'acme.example.com', industry: 'COMPUTER_SOFTWARE' } });
    expect(answer.status).toBe(201);
    expect(shapeDifferences(answer.body, RECORD)).toEqual([]);
    expect(answer.headers.get('location')).toBe(`${emulator.url}/crm/objects/v3/companies/${answer.body.id}`);
    expect(answer.body.properties).toMatchObject({ name: 'Acme', industry: 'COMPUTER_SOFTWARE', hs_object_id: answer.body.id });
  });

  it('batch_company_update_by_id_test and batch_company_lookup_update_test: batch/update by record id answers 200', async () => {
    const id = seedCompany({ name: 'Lookup Tech', domain: 'old.example.com' });
    const answer = await call('POST', '/crm/v3/objects/companies/batch/update', {
      inputs: [{ objectWriteTraceId: 'x', id, properties: { domain: 'new.example.com', industry: 'FINANCIAL_SERVICES' } }],
    });
    expect(answer.status).toBe(200);
    expect(shapeDifferences(answer.body, BATCH_OK(TRACED_RECORD))).toEqual([]);
    expect(answer.body.results[0]).toMatchObject({ id, objectWriteTraceId: 'x', properties: { domain: 'new.example.com', industry: 'FINANCIAL_SERVICES' } });
  });

  it('batch_company_update_stale_id_fallback_test: a merged-away id is left out of a 200; PATCH to it updates the survivor', async () => {
    const survivor = seedCompany({ name: 'Primary', domain: 'primary.example.com' });
    const stale = seedCompany({ name: 'Merged', domain: 'merged.example.com' });
    const control = seedCompany({ name: 'Control', domain: 'control.example.com' });
    emulator.mergeRecords('companies', survivor, stale);
    const batch = await call('POST', '/crm/v3/objects/companies/batch/update', {
      inputs: [
        { objectWriteTraceId: 'stale', id: stale, properties: { industry: 'COMPUTER_SOFTWARE' } },
        { objectWriteTraceId: 'control', id: control, properties: { industry: 'COMPUTER_SOFTWARE' } },
      ],
    });
    expect(batch.status).toBe(200);
    expect(shapeDifferences(batch.body, BATCH_OK(TRACED_RECORD))).toEqual([]);
    expect(batch.body.results.map((r: { id: string }) => r.id)).toEqual([control]);

    const patch = await call('PATCH', `/crm/v3/objects/companies/${stale}`, { properties: { industry: 'COMPUTER_SOFTWARE' } });
    expect(patch.status).toBe(200);
    expect(shapeDifferences(patch.body, RECORD)).toEqual([]);
    expect(patch.body.id).toBe(survivor);
    expect(patch.body.properties.industry).toBe('COMPUTER_SOFTWARE');
  });

  it('batch_contact_partial_error_test: upsert by email answers 207 with INVALID_EMAIL and `new` on results', async () => {
    emulator.seedRecords('contacts', [{ email: 'known@example.com', firstname: 'Old' }]);
    const answer = await call('POST', '/crm/v3/objects/contacts/batch/upsert', {
      inputs: [
        { objectWriteTraceId: 'ok', id: 'known@example.com', idProperty: 'email', properties: { email: 'known@example.com', firstname: 'Batch' } },
        { objectWriteTraceId: 'bad', id: 'not-an-email', idProperty: 'email', properties: { email: 'not-an-email', firstname: 'Batch' } },
      ],
    });
    expect(answer.status).toBe(207);
    expect(shapeDifferences(answer.body, BATCH_PARTIAL({ ...(TRACED_RECORD as object), new: 'boolean' }))).toEqual([]);
    expect(answer.body.results[0]).toMatchObject({ new: false, objectWriteTraceId: 'ok', properties: { firstname: 'Batch' } });
    const problems = embeddedProblems(answer.body.errors[0].message);
    expect(problems).toEqual([{ isValid: false, message: 'Email address not-an-email is invalid', error: 'INVALID_EMAIL', name: 'email' }]);
    expect(answer.body.errors[0].context).toEqual({ objectWriteTraceId: ['bad'] });
  });

  it('batch_contact_upsert_test: upsert creates an unknown email with new: true', async () => {
    const answer = await call('POST', '/crm/v3/objects/contacts/batch/upsert', {
      inputs: [{ objectWriteTraceId: 'n', id: 'fresh@example.com', idProperty: 'email', properties: { firstname: 'Fresh' } }],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.results[0]).toMatchObject({ new: true, properties: { email: 'fresh@example.com', firstname: 'Fresh' } });
  });

  it('batch_company_lookup_update_test: search by name answers 200 with total and results, without rate-limit headers', async () => {
    const id = seedCompany({ name: 'Lookup Tech Solutions', domain: 'lookup.example.com' });
    seedCompany({ name: 'Someone Else', domain: 'else.example.com' });
    const answer = await call('POST', '/crm/v3/objects/companies/search', {
      filterGroups: [{ filters: [{ propertyName: 'name', operator: 'EQ', value: 'Lookup Tech Solutions' }] }],
    });
    expect(answer.status).toBe(200);
    expect(shapeDifferences(answer.body, { total: 'number', results: [RECORD] })).toEqual([]);
    expect(answer.body).toMatchObject({ total: 1, results: [{ id, properties: { name: 'Lookup Tech Solutions', hs_object_id: id } }] });
    expect(answer.headers.get('x-hubspot-ratelimit-max')).toBeNull();
  });
});
