// Sessions, the daily API allowance, versions and describe refusals, injected faults, the request log.
import { afterEach, describe, expect, it } from 'vitest';
import type { SalesforceEmulator } from '../../../emulators/salesforce/index.ts';
import { API, CLIENT, call, invoice, startOrg } from './fixtures.ts';

let sf: SalesforceEmulator;
afterEach(() => sf?.close());

const insertOne = (n: number) => call(sf, 'POST', `${API}/composite/sobjects`, { records: [{ attributes: { type: 'Invoice__c' }, ...invoice(n) }] });

describe('sessions', () => {
  it('answers 401 INVALID_SESSION_ID without a token, with an unknown one, and after tokens expire', async () => {
    sf = await startOrg();
    const expected = [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }];
    const none = await fetch(`${sf.url}${API}/sobjects`);
    expect([none.status, await none.json()]).toEqual([401, expected]);
    const forged = await fetch(`${sf.url}${API}/sobjects`, { headers: { Authorization: 'Bearer 00Dforged!token' } });
    expect(forged.status).toBe(401);

    const token = sf.issueAccessToken();
    const ok = await fetch(`${sf.url}${API}/sobjects`, { headers: { Authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    sf.expireAccessTokens();
    const expired = await fetch(`${sf.url}${API}/sobjects`, { headers: { Authorization: `Bearer ${token}` } });
    expect([expired.status, await expired.json()]).toEqual([401, expected]);
    expect(sf.apiCallsUsed()).toBe(1);
  });

  it('lets a token lapse after its lifetime', async () => {
    sf = await startOrg({ accessTokenTtlSeconds: 0 });
    expect((await call(sf, 'GET', `${API}/limits`)).status).toBe(401);
  });

  it('answers the token endpoint in Salesforce OAuth shapes', async () => {
    sf = await startOrg();
    const token = (form: Record<string, string>) =>
      fetch(`${sf.url}/services/oauth2/token`, { method: 'POST', body: new URLSearchParams(form) }).then(async (r) => [r.status, await r.json()]);
    const [status, body] = await token({ grant_type: 'client_credentials', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
    expect(status).toBe(200);
    expect(body).toMatchObject({ instance_url: sf.url, token_type: 'Bearer', scope: 'api' });
    expect(body.id).toMatch(new RegExp(`^${sf.url}/id/00D[A-Za-z0-9]{15}/005[A-Za-z0-9]{15}$`));
    expect(Object.keys(body).sort()).toEqual(['access_token', 'id', 'instance_url', 'issued_at', 'scope', 'signature', 'token_type']);
    expect(await token({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' })).toEqual([
      400,
      { error: 'invalid_client_id', error_description: 'client identifier invalid' },
    ]);
    expect(await token({ grant_type: 'password', username: 'a', password: 'b' })).toEqual([
      400,
      { error: 'unsupported_grant_type', error_description: 'grant type not supported' },
    ]);
  });
});

describe('the daily API allowance', () => {
  it('counts each call in Sforce-Limit-Info and refuses calls past the limit with REQUEST_LIMIT_EXCEEDED', async () => {
    sf = await startOrg({ dailyApiLimit: 3 });
    const first = await call(sf, 'GET', `${API}/sobjects`);
    expect(first.headers.get('sforce-limit-info')).toBe('api-usage=1/3');
    const limits = await call(sf, 'GET', `${API}/limits`);
    expect(limits.json.DailyApiRequests).toEqual({ Max: 3, Remaining: 1 });
    expect((await insertOne(1)).headers.get('sforce-limit-info')).toBe('api-usage=3/3');
    const refused = await insertOne(2);
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    expect(sf.records('Invoice__c')).toHaveLength(1);
    expect(sf.apiCallsUsed()).toBe(3);
    // The versions list and the token endpoint are not API calls.
    expect((await fetch(`${sf.url}/services/data/`)).status).toBe(200);
  });
});

describe('the daily API allowance, shared', () => {
  it('is one count for the whole org: two sessions (two processes, two integrations) spend it together', async () => {
    sf = await startOrg({ dailyApiLimit: 3 });
    const [one, other] = [sf.issueAccessToken(), sf.issueAccessToken()];
    const get = (token: string) => fetch(`${sf.url}${API}/sobjects`, { headers: { Authorization: `Bearer ${token}` } });
    expect((await get(one)).headers.get('sforce-limit-info')).toBe('api-usage=1/3');
    expect((await get(other)).headers.get('sforce-limit-info')).toBe('api-usage=2/3');
    expect((await get(one)).headers.get('sforce-limit-info')).toBe('api-usage=3/3');
    const refused = await get(other);
    expect([refused.status, await refused.json()]).toEqual([403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]]);
    // The refusal says where the org stands too.
    expect(refused.headers.get('sforce-limit-info')).toBe('api-usage=3/3');
  });
});

describe('resources', () => {
  it('lists only the configured version and answers 404 NOT_FOUND for others and for unknown objects', async () => {
    sf = await startOrg();
    const versions = await (await fetch(`${sf.url}/services/data/`)).json();
    expect(versions).toEqual([{ label: "Winter '25", url: API, version: '62.0' }]);
    const other = await call(sf, 'GET', '/services/data/v58.0/sobjects');
    expect([other.status, other.json]).toEqual([404, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]]);
    const unknown = await call(sf, 'GET', `${API}/sobjects/Nope__c/describe`);
    expect([unknown.status, unknown.json[0].errorCode]).toEqual([404, 'NOT_FOUND']);
    const lowerCase = await call(sf, 'GET', `${API}/sobjects/invoice__c/describe`);
    expect(lowerCase.json.name).toBe('Invoice__c');
    const wrongMethod = await call(sf, 'PUT', `${API}/composite/sobjects`, { records: [] });
    expect([wrongMethod.status, wrongMethod.json[0].errorCode]).toEqual([405, 'METHOD_NOT_ALLOWED']);
    const wrongMedia = await call(sf, 'POST', `${API}/composite/sobjects`, '{"records":[]}', { 'Content-Type': 'text/plain' });
    expect([wrongMedia.status, wrongMedia.json[0].errorCode]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const badJson = await call(sf, 'POST', `${API}/composite/sobjects`, '{"records": [');
    expect([badJson.status, badJson.json[0].errorCode]).toEqual([400, 'JSON_PARSER_ERROR']);
  });

  it('logs each request with its parsed body and status', async () => {
    sf = await startOrg();
    await insertOne(1);
    await fetch(`${sf.url}/services/oauth2/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'x' }) });
    const [insert, token] = sf.requests;
    expect(insert).toMatchObject({ method: 'POST', path: `${API}/composite/sobjects`, status: 200, contentType: 'application/json', query: {} });
    expect((insert.body as any).records[0].Invoice_Number__c).toBe('INV-00001');
    expect(token).toMatchObject({ path: '/services/oauth2/token', status: 400, body: { grant_type: 'client_credentials', client_id: 'x' } });
    expect(typeof insert.at).toBe('number');
    sf.clearRequests();
    expect(sf.requests).toHaveLength(0);
  });
});

describe('fault injection', () => {
  it('answers injected statuses for matching requests only, as many times as asked', async () => {
    sf = await startOrg();
    sf.injectFaults([{ kind: 'status', status: 503, times: 2, match: { method: 'POST', pathIncludes: '/composite/' } }]);
    expect((await call(sf, 'GET', `${API}/sobjects`)).status).toBe(200);
    const unavailable = await insertOne(1);
    expect([unavailable.status, unavailable.json[0].errorCode]).toEqual([503, 'SERVER_UNAVAILABLE']);
    expect((await insertOne(1)).status).toBe(503);
    expect((await insertOne(1)).status).toBe(200);
    sf.injectFaults([{ kind: 'status', status: 500 }, { kind: 'status', status: 502 }, { kind: 'limit' }]);
    expect((await insertOne(2)).json[0].errorCode).toBe('UNKNOWN_EXCEPTION');
    expect((await insertOne(2)).status).toBe(502);
    expect((await insertOne(2)).json[0].errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    expect(sf.records('Invoice__c')).toHaveLength(1);
  });

  it('drops the connection before or after doing the work', async () => {
    sf = await startOrg();
    sf.injectFaults([{ kind: 'reset-before' }]);
    await expect(insertOne(1)).rejects.toThrow();
    expect(sf.records('Invoice__c')).toHaveLength(0);
    sf.injectFaults([{ kind: 'reset-after' }]);
    await expect(insertOne(1)).rejects.toThrow();
    expect(sf.records('Invoice__c')).toHaveLength(1);
    expect(sf.requests.map((r) => r.status)).toEqual([0, 0]);
  });

  it('expires every session just before a matching request', async () => {
    sf = await startOrg();
    const token = sf.issueAccessToken();
    const get = () => fetch(`${sf.url}${API}/limits`, { headers: { Authorization: `Bearer ${token}` } });
    sf.injectFaults([{ kind: 'expire-session', match: { pathIncludes: '/limits' } }]);
    expect((await fetch(`${sf.url}${API}/sobjects`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    const refused = await get();
    expect([refused.status, await refused.json()]).toEqual([401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]]);
    expect((await get()).status).toBe(401);
  });

  it('fires on every nth matching request, by path pattern, or at a seeded rate; clearFaults disarms', async () => {
    sf = await startOrg();
    sf.injectFaults([{ kind: 'status', status: 500, every: 3, times: 2, match: { pathMatches: '/limits$' } }]);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await call(sf, 'GET', `${API}/limits`)).status);
    expect(statuses).toEqual([200, 200, 500, 200, 200, 500, 200, 200]);
    const seeded = async () => {
      const org = await startOrg({ faultSeed: 7 });
      org.injectFaults([{ kind: 'status', status: 503, probability: 0.3, times: Infinity }]);
      const got: number[] = [];
      for (let i = 0; i < 20; i++) got.push((await call(org, 'GET', `${API}/limits`)).status);
      await org.close();
      return got;
    };
    const first = await seeded();
    expect(first).toContain(503);
    expect(first).toContain(200);
    expect(await seeded()).toEqual(first);
    sf.injectFaults([{ kind: 'status', status: 500, times: Infinity }]);
    sf.clearFaults();
    expect((await call(sf, 'GET', `${API}/limits`)).status).toBe(200);
  });

  it('answers limits, Retry-After, edge pages and bodies that echo the request as asked', async () => {
    sf = await startOrg();
    sf.injectFaults([
      { kind: 'limit', limit: 'concurrent' },
      { kind: 'status', status: 503, retryAfterSeconds: 3 },
      { kind: 'status', status: 504 },
      { kind: 'status', status: 401, echoRequest: true },
    ]);
    const concurrent = await insertOne(1);
    expect([concurrent.status, concurrent.json[0].errorCode, concurrent.json[0].message]).toEqual([403, 'REQUEST_LIMIT_EXCEEDED', 'ConcurrentRequests (Concurrent API Requests) Limit exceeded.']);
    const unavailable = await insertOne(1);
    expect([unavailable.status, unavailable.headers.get('retry-after')]).toEqual([503, '3']);
    const gateway = await insertOne(1);
    expect([gateway.status, gateway.headers.get('content-type')]).toEqual([504, 'text/html']);
    const echoed = await insertOne(1);
    expect(echoed.json[0].errorCode).toBe('INVALID_SESSION_ID');
    expect(echoed.json[0].message).toMatch(/with Bearer \S+ and body \{"records"/);
    sf.injectFaults([{ kind: 'status', status: 400, echoRequest: true, match: { pathIncludes: '/oauth2/token' } }]);
    const token = await fetch(`${sf.url}/services/oauth2/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'x', client_secret: 'shh-secret' }) });
    const refused = await token.json();
    expect([token.status, refused.error]).toEqual([400, 'invalid_grant']);
    expect(refused.error_description).toContain('client_secret=shh-secret');
  });

  it('logs requests in the order they arrive, answered or not', async () => {
    sf = await startOrg();
    sf.injectFaults([{ kind: 'latency', ms: 300, match: { pathIncludes: '/limits' } }]);
    const slow = call(sf, 'GET', `${API}/limits`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await call(sf, 'GET', `${API}/sobjects`);
    expect(sf.requests.map((r) => [r.path.split('/').at(-1), r.status])).toEqual([['limits', 0], ['sobjects', 200]]);
    await slow;
    expect(sf.requests[0].status).toBe(200);
  });

  it('delays a response', async () => {
    sf = await startOrg();
    sf.injectFaults([{ kind: 'latency', ms: 150 }]);
    const started = Date.now();
    expect((await call(sf, 'GET', `${API}/limits`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});
