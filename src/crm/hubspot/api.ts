// The one door to HubSpot. Typed calls (schemas, properties, OAuth) go through
// @hubspot/api-client; batch writes are sent with fetch so we see what the typed client hides
// (207 bodies, 409, Retry-After) and can bound them with an AbortSignal, which the client's
// apiRequest cannot take. Every request is paced by the rolling-window limiter, bounded by the
// request timeout, classified into our error categories, and retried only when that is safe.
// The client's own retries stay off: two retry layers would multiply waits and hide the limit.
import { Client } from '@hubspot/api-client';
import type { HubSpotConfig } from '../../config/spec.js';
import type { DestinationEvents } from '../destination.js';
import { configError, transientError, type ConnectorError } from '../../errors.js';
import type { Logger } from '../../protocol/log.js';
import { CrmHttpClient, type Attempts } from '../http/client.js';
import { bodyExcerpt, garbledAnswer, networkFailure, SERVER_ERROR, type Endpoint } from '../http/network.js';
import { DAILY_LIMIT, RATE_LIMITED, retryAfterMs } from '../http/retry.js';
import { timeoutAgent } from '../http/timeout-agent.js';
import { DAILY_RESET, HubSpotPacing } from './pacing.js';

export const DEFAULT_BASE_URL = 'https://api.hubapi.com';
/** Refresh OAuth tokens this long before HubSpot says they expire (at most half their life). */
const TOKEN_MARGIN_MS = 60_000;
/** HubSpot refused the token: fatal for a private-app token, one refresh for an OAuth one. */
const UNAUTHORIZED = 'unauthorized';
const USER_AGENT = 'crm-activate (+https://github.com/crm-activate/crm-activate)';

export interface HubSpotResponse {
  status: number;
  body: any;
  headers: Headers;
}

export interface HubSpotRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  /** Safe to repeat when the outcome is unknown (reads, updates, upserts, archives; not creates). */
  idempotent: boolean;
  /** What is wrong with a 2xx answer that is not the one asked for (undefined: it is): such an answer counts as lost. */
  checkAnswer?: (status: number, body: any) => string | undefined;
}

export class HubSpotApi extends CrmHttpClient {
  readonly client: Client;
  private readonly baseUrl: string;
  /** Named in a failure to connect, so a wrong base_url is easy to spot. */
  private readonly endpoint: Endpoint;
  private readonly pacing: HubSpotPacing;
  private accessToken?: string;
  private tokenExpiresAt = 0;
  private tokenMarginMs = TOKEN_MARGIN_MS;
  private refreshing?: Promise<void>;
  requestCount = 0;

  /** Our copy: a rotated refresh token replaces the configured one for the rest of the run. */
  private readonly config: HubSpotConfig;

  constructor(
    config: HubSpotConfig,
    log: Logger,
    private readonly events: DestinationEvents,
  ) {
    super('HubSpot', log, config);
    this.config = structuredClone(config);
    this.pacing = new HubSpotPacing(config.rate_limit);
    this.baseUrl = (config.base_url ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.endpoint = { url: this.baseUrl, setting: config.base_url ? 'crm.base_url' : 'the default of crm.base_url' };
    this.accessToken = config.access_token;
    this.client = new Client({
      accessToken: config.access_token,
      basePath: this.baseUrl,
      numberOfApiCallRetries: 0,
      httpAgent: timeoutAgent(this.baseUrl, this.timeoutMs),
      // Typed calls' answers report the budgets too: the pacing reads them before the first write.
      middleware: [{ pre: (context) => context, post: (context) => this.observeTypedAnswer(context) }],
    });
  }

  get requestsPerSecond(): number {
    return this.pacing.requestsPerSecond;
  }

  private observeTypedAnswer(context: unknown): unknown {
    const { headers } = context as { headers?: Record<string, string> };
    if (headers) this.pacing.observe('', new Headers(headers));
    return context;
  }

  /** Sends a raw request; answers every status the caller must interpret (2xx, 400, 404, 409). */
  request(request: HubSpotRequest): Promise<HubSpotResponse> {
    const what = `${request.method} ${request.path}`;
    return this.paced({ idempotent: request.idempotent, what, path: request.path }, async (token) => {
      const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json', 'user-agent': USER_AGENT };
      if (token) headers.authorization = `Bearer ${token}`;
      const body = request.body === undefined ? undefined : JSON.stringify(request.body);
      const answer = await this.fetchAnswer({ url: `${this.baseUrl}${request.path}`, method: request.method, headers, body }, what, this.endpoint);
      const parsed = answer.text === '' ? undefined : parseMaybeJson(answer.text);
      this.pacing.observe(request.path, answer.headers);
      this.raiseForStatus(answer.status, parsed, answer.headers);
      if (answer.status < 300) raiseIfGarbled(request, what, answer.status, parsed);
      return { status: answer.status, body: parsed, headers: answer.headers };
    });
  }

  /** Runs a typed client call under the same pacing, auth refresh and error classification. */
  typed<T>(what: string, call: (client: Client) => Promise<T>): Promise<T> {
    return this.paced({ idempotent: true, what, path: '' }, async () => {
      try {
        return await call(this.client);
      } catch (error) {
        // The typed client parses every 2xx body as JSON: a page of text fails there.
        if (error instanceof SyntaxError) throw garbledAnswer('HubSpot', what, `the body is not JSON: ${error.message}`);
        const status = (error as { code?: unknown }).code;
        if (typeof status !== 'number') throw networkFailure(error, what, 'HubSpot', this.endpoint);
        const { body, headers } = error as { body?: unknown; headers?: Record<string, string> };
        const parsed = parseMaybeJson(body);
        this.raiseForStatus(status, parsed, new Headers(headers ?? {}));
        throw configError(`HubSpot answered ${status} to ${what}: ${errorText(parsed)}`, { code: `http_${status}` });
      }
    });
  }

  /** Retried, paced, and with an OAuth token refreshed once when HubSpot refuses it early. */
  private paced<T>({ idempotent, what, path }: { idempotent: boolean; what: string; path: string }, send: (token: string | undefined) => Promise<T>): Promise<T> {
    return this.retrying({ what, idempotent }, async (attempts: Attempts) => {
      await this.ensureToken();
      // No longer in line than a retry may wait, and not at all once the run is stopping.
      const answered = await this.pacing.take(path, this.stopSignal, this.retryPolicy.deadlineMs);
      this.requestCount += 1;
      const token = this.accessToken;
      try {
        return await send(token);
      } catch (error) {
        if ((error as ConnectorError).code !== UNAUTHORIZED || !this.config.oauth || attempts.renewed) throw error;
        // An OAuth token may expire early (revoked, rotated): refresh once and send again. A
        // second refusal means the app lost access, which no retry can fix.
        if (token === this.accessToken) this.tokenExpiresAt = 0;
        throw this.renewed(attempts, 'HubSpot refused the access token (401); refreshing it');
      } finally {
        answered();
      }
    });
  }

  private raiseForStatus(status: number, body: any, headers: Headers): void {
    if (status === 401) {
      const hint = this.config.oauth ? 'even after refreshing it; check that the app is still installed' : 'check crm.access_token';
      throw configError(`HubSpot refused the access token (401), ${hint}: ${errorText(body)}`, { code: UNAUTHORIZED });
    }
    if (status === 403) {
      const scopes = body?.context?.missingScopes ?? body?.errors?.[0]?.context?.missingScopes;
      const missing = Array.isArray(scopes) && scopes.length > 0 ? `; missing scopes: ${scopes.join(', ')}` : '';
      throw configError(`HubSpot denied access (403): ${errorText(body)}${missing}`, { code: 'forbidden' });
    }
    if (status === 429) throw this.rateLimited(body, headers);
    if (status >= 500) throw transientError(`HubSpot answered ${status}: ${errorText(body)}`, { code: SERVER_ERROR });
  }

  private rateLimited(body: any, headers: Headers): ConnectorError {
    const policy = String(body?.policyName ?? '');
    if (policy === 'DAILY') {
      return transientError(`HubSpot's daily API limit is reached; ${DAILY_RESET}`, { code: DAILY_LIMIT });
    }
    const interval = Number(headers.get('x-hubspot-ratelimit-interval-milliseconds')) || this.pacing.share().intervalMs;
    const askedMs = retryAfterMs(headers);
    const waitMs = askedMs ?? (policy === 'SECONDLY' ? 1000 : Math.min(interval, 10_000));
    const error = transientError(`HubSpot rate limit (${policy || '429'})`, { code: RATE_LIMITED, retryAfterMs: waitMs, retryAfterHeader: askedMs !== undefined });
    this.pacing.pauseUntil(Date.now() + waitMs, error);
    this.events.rateLimited(Date.now() + waitMs);
    return error;
  }

  private async ensureToken(): Promise<void> {
    const { oauth } = this.config;
    if (!oauth || Date.now() < this.tokenExpiresAt - this.tokenMarginMs) return;
    this.refreshing ??= this.refreshToken(oauth).finally(() => (this.refreshing = undefined));
    await this.refreshing;
  }

  private async refreshToken(oauth: NonNullable<HubSpotConfig['oauth']>): Promise<void> {
    let token: { accessToken: string; expiresIn: number; refreshToken: string };
    try {
      token = await this.client.oauth.tokensApi.create('refresh_token', undefined, undefined, oauth.client_id, oauth.client_secret, oauth.refresh_token);
    } catch (error) {
      const status = (error as { code?: unknown }).code;
      if (typeof status === 'number' && status < 500) {
        throw configError(`HubSpot refused the OAuth refresh token (${status}): ${errorText(parseMaybeJson((error as { body?: unknown }).body))}`, { code: 'oauth_refused' });
      }
      if (typeof status === 'number') throw transientError(`HubSpot answered ${status} to the OAuth token refresh`, { code: SERVER_ERROR });
      throw networkFailure(error, 'the OAuth token refresh', 'HubSpot', this.endpoint);
    }
    // Fetched at run time, so not among the config's secrets: it must be kept out of every output too.
    this.log.redactor.add(token.accessToken);
    this.accessToken = token.accessToken;
    this.client.setAccessToken(token.accessToken);
    const lifetimeMs = token.expiresIn * 1000;
    this.tokenMarginMs = Math.min(TOKEN_MARGIN_MS, lifetimeMs / 2);
    this.tokenExpiresAt = Date.now() + lifetimeMs;
    this.log.debug('HubSpot OAuth access token refreshed');
    if (token.refreshToken && token.refreshToken !== oauth.refresh_token) {
      this.log.redactor.add(token.refreshToken);
      oauth.refresh_token = token.refreshToken;
      this.events.credentialsRotated(structuredClone(this.config));
    }
  }
}

/** HubSpot answers JSON (or nothing, 204): a page of text is some middlebox's, whatever its status. */
function raiseIfGarbled(request: HubSpotRequest, what: string, status: number, body: unknown): void {
  const problem = typeof body === 'string' ? `the body is not JSON: ${bodyExcerpt(body)}` : request.checkAnswer?.(status, body);
  if (problem) throw garbledAnswer('HubSpot', what, problem);
}

function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export function errorText(body: any): string {
  if (body === undefined || body === null) return 'no details';
  if (typeof body === 'string') return body.slice(0, 500);
  return String(body.message ?? JSON.stringify(body).slice(0, 500));
}
