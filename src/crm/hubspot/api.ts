// The one door to HubSpot. Typed calls (schemas, properties, OAuth) go through
// @hubspot/api-client; batch writes go through its apiRequest so we see what the typed client
// hides (207 bodies, 409, Retry-After). Every request is paced by the rolling-window limiter,
// classified into our error categories, and retried only when that is safe. The client's own
// retries stay off: two retry layers would multiply waits and hide the rate limit.
import { Client } from '@hubspot/api-client';
import type { HubSpotConfig } from '../../config/spec.js';
import type { DestinationEvents } from '../destination.js';
import { configError, transientError, type ConnectorError } from '../../errors.js';
import type { Logger } from '../../protocol/log.js';
import { RollingWindowLimiter } from '../http/rate-limiter.js';
import { withRetries } from '../http/retry.js';

export const DEFAULT_BASE_URL = 'https://api.hubapi.com';
/** Refresh OAuth tokens this long before HubSpot says they expire. */
const TOKEN_MARGIN_MS = 60_000;

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
}

export class HubSpotApi {
  readonly client: Client;
  private readonly limiter: RollingWindowLimiter;
  private tokenExpiresAt = 0;
  private refreshing?: Promise<void>;
  requestCount = 0;

  /** Our copy: a rotated refresh token replaces the configured one for the rest of the run. */
  private readonly config: HubSpotConfig;

  constructor(
    config: HubSpotConfig,
    private readonly log: Logger,
    private readonly events: DestinationEvents,
  ) {
    this.config = structuredClone(config);
    this.client = new Client({
      accessToken: config.access_token,
      basePath: (config.base_url ?? DEFAULT_BASE_URL).replace(/\/+$/, ''),
      numberOfApiCallRetries: 0,
    });
    this.limiter = new RollingWindowLimiter(config.rate_limit?.max_requests ?? 100, config.rate_limit?.interval_ms ?? 10_000);
  }

  get requestsPerSecond(): number {
    return (this.config.rate_limit?.max_requests ?? 100) / ((this.config.rate_limit?.interval_ms ?? 10_000) / 1000);
  }

  /** Sends a raw request; answers every status the caller must interpret (2xx, 400, 404, 409). */
  request(request: HubSpotRequest): Promise<HubSpotResponse> {
    return this.retrying(request.idempotent, `${request.method} ${request.path}`, async () => {
      let response: Response;
      try {
        response = await this.client.apiRequest({ method: request.method, path: request.path, body: request.body as object });
      } catch (error) {
        throw networkError(request, error);
      }
      const body = await readBody(response);
      this.raiseForStatus(response.status, body, response.headers);
      return { status: response.status, body, headers: response.headers };
    });
  }

  /** Runs a typed client call under the same pacing, auth refresh and error classification. */
  typed<T>(what: string, call: (client: Client) => Promise<T>): Promise<T> {
    return this.retrying(true, what, async () => {
      try {
        return await call(this.client);
      } catch (error) {
        const status = (error as { code?: unknown }).code;
        if (typeof status !== 'number') throw networkError({ method: 'GET', path: what, idempotent: true }, error);
        const { body, headers } = error as { body?: unknown; headers?: Record<string, string> };
        const parsed = parseMaybeJson(body);
        this.raiseForStatus(status, parsed, new Headers(headers ?? {}));
        throw configError(`HubSpot answered ${status} to ${what}: ${errorText(parsed)}`, { code: `http_${status}` });
      }
    });
  }

  private async retrying<T>(idempotent: boolean, what: string, send: () => Promise<T>): Promise<T> {
    return withRetries(
      async () => {
        await this.ensureToken();
        await this.limiter.take();
        this.requestCount += 1;
        return send();
      },
      {
        retryable: (error) => isSafeToRetry(error, idempotent),
        onRetry: (error, attempt, delay) => this.log.debug(`${what}: ${error.message}; retry ${attempt} in ${delay} ms`),
      },
    );
  }

  private raiseForStatus(status: number, body: any, headers: Headers): void {
    if (status === 401) {
      if (this.config.oauth) {
        this.tokenExpiresAt = 0; // refresh before the retry
        throw transientError('HubSpot refused the access token (401); refreshing it', { code: 'token_expired', retryAfterMs: 0 });
      }
      throw configError(`HubSpot refused the access token (401): ${errorText(body)}`, { code: 'unauthorized' });
    }
    if (status === 403) {
      const scopes = body?.context?.missingScopes ?? body?.errors?.[0]?.context?.missingScopes;
      const missing = Array.isArray(scopes) && scopes.length > 0 ? `; missing scopes: ${scopes.join(', ')}` : '';
      throw configError(`HubSpot denied access (403): ${errorText(body)}${missing}`, { code: 'forbidden' });
    }
    if (status === 429) throw this.rateLimited(body, headers);
    if (status >= 500) throw transientError(`HubSpot answered ${status}: ${errorText(body)}`, { code: 'server_error' });
  }

  private rateLimited(body: any, headers: Headers): ConnectorError {
    const policy = String(body?.policyName ?? '');
    if (policy === 'DAILY') {
      return transientError('HubSpot\'s daily API limit is reached; rerun after midnight in the portal\'s time zone', { code: 'daily_limit' });
    }
    const retryAfter = Number(headers.get('retry-after'));
    const interval = Number(headers.get('x-hubspot-ratelimit-interval-milliseconds')) || (this.config.rate_limit?.interval_ms ?? 10_000);
    const waitMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : policy === 'SECONDLY' ? 1000 : Math.min(interval, 10_000);
    this.limiter.pauseUntil(Date.now() + waitMs);
    this.events.rateLimited(Date.now() + waitMs);
    return transientError(`HubSpot rate limit (${policy || '429'})`, { code: 'rate_limited', retryAfterMs: waitMs });
  }

  private async ensureToken(): Promise<void> {
    const { oauth } = this.config;
    if (!oauth || Date.now() < this.tokenExpiresAt - TOKEN_MARGIN_MS) return;
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
      throw transientError(`could not refresh the HubSpot OAuth token: ${(error as Error).message}`, { code: 'server_error' });
    }
    this.client.setAccessToken(token.accessToken);
    this.tokenExpiresAt = Date.now() + token.expiresIn * 1000;
    this.log.debug('HubSpot OAuth access token refreshed');
    if (token.refreshToken && token.refreshToken !== oauth.refresh_token) {
      oauth.refresh_token = token.refreshToken;
      this.events.credentialsRotated(structuredClone(this.config));
    }
  }
}

function isSafeToRetry(error: ConnectorError, idempotent: boolean): boolean {
  if (error.code === 'daily_limit') return false;
  // Refused before HubSpot applied anything: always safe.
  if (error.code === 'rate_limited' || error.code === 'token_expired' || error.code === 'connection_refused') return true;
  return idempotent;
}

function networkError(request: HubSpotRequest, error: unknown): ConnectorError {
  const cause = (error as { cause?: { code?: string } }).cause;
  const code = cause?.code === 'ECONNREFUSED' ? 'connection_refused' : 'network';
  return transientError(`network error on ${request.method} ${request.path}: ${cause?.code ?? (error as Error).message}`, { code, cause: error });
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  return text === '' ? undefined : parseMaybeJson(text);
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
