// The emulator's budgets, as HubSpot keeps them: the rolling window belongs to the app (every
// token of one private app, every access token one OAuth app issued), the daily budget to the
// account's private apps, and search has a per-second budget of its own without headers. Two
// processes of one app therefore share one budget whatever token each holds. Counts only: the
// window is 10 s wide, far longer than any of these tests.
import { afterEach, describe, expect, it } from 'vitest';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../../emulators/hubspot/index.ts';

const OAUTH = { clientId: 'client-1', clientSecret: 'secret-1', refreshToken: 'refresh-1' };
const TOKEN = 'pat-na1-rate-limits-a';
const SECOND_TOKEN = 'pat-na1-rate-limits-b';

let emulator: HubSpotEmulator;
afterEach(async () => { await emulator.close(); });

async function oauthToken(): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: OAUTH.clientId, client_secret: OAUTH.clientSecret, refresh_token: OAUTH.refreshToken });
  const response = await fetch(`${emulator.url}/oauth/v1/token`, { method: 'POST', body: form });
  return ((await response.json()) as { access_token: string }).access_token;
}

async function call(token: string, path = '/crm/v3/objects/companies?limit=1', body?: unknown) {
  const response = await fetch(`${emulator.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json() as Record<string, unknown>;
  const header = (name: string) => response.headers.get(`x-hubspot-ratelimit-${name}`);
  return { status: response.status, body: json, header };
}

const search = (token: string) => call(token, '/crm/v3/objects/companies/search', { filterGroups: [], limit: 1 });

describe('HubSpot emulator rate limits', () => {
  it('shares one window between two access tokens of the same OAuth app, and refuses past it with HubSpot 429 body', async () => {
    emulator = await startHubSpotEmulator({ oauth: OAUTH, accessTokens: [], rateLimit: { max: 4, intervalMs: 10_000 } });
    const [first, second] = [await oauthToken(), await oauthToken()];
    expect(first).not.toBe(second);
    expect((await call(first)).header('remaining')).toBe('3');
    expect((await call(second)).header('remaining')).toBe('2');
    expect((await call(first)).header('remaining')).toBe('1');
    const last = await call(second);
    expect(last.status).toBe(200);
    expect(last.header('remaining')).toBe('0');
    expect(last.header('max')).toBe('4');
    expect(last.header('interval-milliseconds')).toBe('10000');
    const refused = await call(first);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ status: 'error', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING', message: 'You have reached your ten_secondly_rolling limit.' });
    // OAuth apps have no daily budget: no daily headers.
    expect(refused.header('daily')).toBeNull();
  });

  it("keeps one window per private app and one daily budget for the account's private apps, with its headers", async () => {
    emulator = await startHubSpotEmulator({ accessTokens: [TOKEN, SECOND_TOKEN], rateLimit: { max: 10, intervalMs: 10_000, daily: 3 } });
    const one = await call(TOKEN);
    expect([one.header('remaining'), one.header('daily'), one.header('daily-remaining')]).toEqual(['9', '3', '2']);
    const other = await call(SECOND_TOKEN);
    // Its own window, the same daily budget.
    expect([other.header('remaining'), other.header('daily-remaining')]).toEqual(['9', '1']);
    expect((await call(TOKEN)).header('daily-remaining')).toBe('0');
    const refused = await call(SECOND_TOKEN);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ errorType: 'RATE_LIMIT', policyName: 'DAILY' });
    expect(refused.header('daily-remaining')).toBe('0');
  });

  it('gives search its own per-second budget, without rate-limit headers, outside the window', async () => {
    emulator = await startHubSpotEmulator({ accessTokens: [TOKEN], rateLimit: { max: 10, intervalMs: 10_000, searchPerSecond: 2 } });
    const answers = [await search(TOKEN), await search(TOKEN), await search(TOKEN)];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(answers[2].body).toMatchObject({ errorType: 'RATE_LIMIT', policyName: 'SECONDLY' });
    for (const answer of answers) expect(answer.header('max')).toBeNull();
    // Searches did not spend the window.
    expect((await call(TOKEN)).header('remaining')).toBe('9');
  });
});
