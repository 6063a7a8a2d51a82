// Getting an access token per `crm.auth`: client credentials, refresh token and JWT bearer go to the
// token endpoint through jsforce's OAuth2 (it posts the form and reads Salesforce's error body);
// the JWT assertion is signed here with node:crypto, which jsforce does not do. A fixed access token
// is used as given and cannot be renewed. Tokens fetched at run time join the redactor at once.
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { SalesforceConfig } from '../../config/spec.js';
import { configError, transientError, type ConnectorError } from '../../errors.js';
import type { Redactor } from '../../protocol/log.js';
import { displayUrl, networkFailure, type Endpoint } from '../http/network.js';
import type { JsforceModule } from './jsforce.js';

export const DEFAULT_LOGIN_URL = 'https://login.salesforce.com';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Salesforce accepts a JWT assertion for at most a few minutes after it was signed. */
const JWT_LIFETIME_SECONDS = 180;
/** No token was issued (network, 5xx, no answer in time): asking again is always safe. */
export const TOKEN_UNAVAILABLE = 'token_unavailable';

export interface Session {
  accessToken: string;
  instanceUrl: string;
  /** The org's 15-character id, when the token answer or the token itself names it. */
  orgId?: string;
  /** The user's 15-character id, when the token answer names it. */
  userId?: string;
  /** A refresh token the answer carried (orgs with refresh token rotation issue a new one). */
  refreshToken?: string;
}

type Auth = SalesforceConfig['auth'];

export function canRenew(auth: Auth): boolean {
  return auth.type !== 'access_token';
}

export async function openSession(config: SalesforceConfig, jsforce: JsforceModule, redactor: Redactor, timeoutMs: number): Promise<Session> {
  const { auth } = config;
  if (auth.type === 'access_token') {
    return { accessToken: auth.access_token, instanceUrl: trimSlash(auth.instance_url), orgId: orgIdOfToken(auth.access_token) };
  }
  const loginUrl = trimSlash(config.login_url ?? DEFAULT_LOGIN_URL);
  const oauth2 = new jsforce.OAuth2({
    loginUrl,
    clientId: auth.type === 'jwt_bearer' ? undefined : auth.client_id,
    clientSecret: auth.type === 'jwt_bearer' ? undefined : auth.client_secret,
  });
  let answer: Record<string, unknown>;
  try {
    // jsforce's own bound is 30 minutes: a hung token endpoint must not hold the run that long.
    answer = (await withTimeout(oauth2.requestToken(grantOf(auth, loginUrl)), timeoutMs)) as unknown as Record<string, unknown>;
  } catch (error) {
    throw tokenRefused(auth.type, { url: loginUrl, setting: config.login_url ? 'crm.login_url' : 'the default of crm.login_url' }, error);
  }
  const accessToken = String(answer.access_token ?? '');
  const instanceUrl = String(answer.instance_url ?? '');
  redactor.add(accessToken);
  if (!accessToken || !/^https?:\/\//.test(instanceUrl)) {
    throw configError(`the token endpoint at ${displayUrl(loginUrl)} answered without an access_token and instance_url`, { code: 'oauth_refused' });
  }
  const refreshToken = typeof answer.refresh_token === 'string' && answer.refresh_token !== '' ? answer.refresh_token : undefined;
  redactor.add(refreshToken);
  return { accessToken, instanceUrl: trimSlash(instanceUrl), orgId: orgIdOfIdUrl(answer.id) ?? orgIdOfToken(accessToken), userId: userIdOfIdUrl(answer.id), refreshToken };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' })), timeoutMs);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

function grantOf(auth: Exclude<Auth, { type: 'access_token' }>, loginUrl: string): { grant_type: string; [name: string]: string } {
  switch (auth.type) {
    case 'client_credentials':
      return { grant_type: 'client_credentials' };
    case 'refresh_token':
      return { grant_type: 'refresh_token', refresh_token: auth.refresh_token };
    case 'jwt_bearer':
      return { grant_type: JWT_BEARER, assertion: jwtAssertion(auth, loginUrl) };
  }
}

/** RS256-signed claims: the connected app (iss), the user (sub), the login server (aud). */
export function jwtAssertion(auth: Extract<Auth, { type: 'jwt_bearer' }>, loginUrl: string, now = Date.now()): string {
  const encode = (part: unknown) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const claims = { iss: auth.client_id, sub: auth.username, aud: audienceOf(loginUrl), exp: Math.floor(now / 1000) + JWT_LIFETIME_SECONDS };
  const unsigned = `${encode({ alg: 'RS256' })}.${encode(claims)}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), privateKeyOf(auth.private_key)).toString('base64url')}`;
}

/** My Domain logins still name the public login server as audience (test.… for sandboxes). */
function audienceOf(loginUrl: string): string {
  const host = new URL(loginUrl).hostname;
  if (host.endsWith('.sandbox.my.salesforce.com')) return 'https://test.salesforce.com';
  if (host.endsWith('.my.salesforce.com')) return 'https://login.salesforce.com';
  return loginUrl;
}

function privateKeyOf(pem: string): KeyObject {
  // Environment variables and UI fields often carry the PEM's line breaks as "\n".
  const text = pem.includes('\n') ? pem : pem.replace(/\\n/g, '\n');
  try {
    return createPrivateKey(text);
  } catch (error) {
    throw configError(`crm.auth.private_key is not a PEM private key: ${(error as Error).message}`, { code: 'invalid_private_key' });
  }
}

/** jsforce names the error after OAuth's `error` and puts `error_description` in the message. */
function tokenRefused(grant: string, login: Endpoint, error: unknown): ConnectorError {
  const loginUrl = displayUrl(login.url);
  const name = (error as Error).name ?? '';
  const message = (error as Error).message ?? String(error);
  if (error instanceof TypeError || name === 'TimeoutError') {
    // No token was issued and no request of ours was sent yet: asking again is always safe.
    const failure = networkFailure(error, `the token request to ${loginUrl}`, 'Salesforce', login);
    return transientError(failure.message, { code: TOKEN_UNAVAILABLE, cause: error });
  }
  if (/^ERROR_HTTP_5\d\d$/.test(name)) {
    return transientError(`the Salesforce token endpoint at ${loginUrl} answered ${name.slice('ERROR_HTTP_'.length)}`, { code: TOKEN_UNAVAILABLE, cause: error });
  }
  const hint = name === 'invalid_grant' && grant === 'client_credentials' ? ' (client credentials need your My Domain URL as crm.login_url)' : '';
  return configError(`Salesforce refused the OAuth ${grant.replace('_', ' ')} grant at ${loginUrl}: ${name}: ${message.slice(0, 300)}${hint}`, { code: 'oauth_refused' });
}

/** The identity URL of a token answer: https://login.salesforce.com/id/00D…/005…. */
function orgIdOfIdUrl(id: unknown): string | undefined {
  const match = typeof id === 'string' ? /\/id\/(00D[A-Za-z0-9]{12,15})\//.exec(id) : null;
  return match ? match[1].slice(0, 15) : undefined;
}

function userIdOfIdUrl(id: unknown): string | undefined {
  const match = typeof id === 'string' ? /\/id\/00D[A-Za-z0-9]{12,15}\/(005[A-Za-z0-9]{12,15})$/.exec(id) : null;
  return match ? match[1].slice(0, 15) : undefined;
}

/** A Salesforce access token starts with the org's 15-character id and "!". */
function orgIdOfToken(token: string): string | undefined {
  const match = /^(00D[A-Za-z0-9]{12})!/.exec(token);
  return match?.[1];
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
