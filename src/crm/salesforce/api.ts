// The one door to Salesforce. jsforce gets the tokens (OAuth2) and sends every request
// (Connection.request: session header, JSON and error-body parsing, Sforce-Limit-Info); its own
// retries are switched off and its session refresh is never armed, because this door decides:
// requests are capped in number at once, classified into our error categories, retried only when
// safe, and an expired session (INVALID_SESSION_ID) is renewed once before the run gives up.
// Answers the caller must interpret (a refused collection, an unknown object) come back as values.
import type { SalesforceConfig } from '../../config/spec.js';
import type { DestinationEvents } from '../destination.js';
import { configError, transientError, type ConnectorError } from '../../errors.js';
import type { Logger } from '../../protocol/log.js';
import { ConcurrencyLimit } from '../http/concurrency.js';
import { withRetries } from '../http/retry.js';
import { canRenew, openSession, type Session } from './auth.js';
import { loadJsforce, type JsforceConnection } from './jsforce.js';

export const DEFAULT_API_VERSION = '62.0';
/** Requests in flight at once: Salesforce allows 25 long-running ones per org, shared with other apps. */
const MAX_IN_FLIGHT = 8;
const DEFAULT_TIMEOUT_MS = 120_000;
const LIMIT_WARNING_SHARE = 0.9;

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface SalesforceRequest {
  method: HttpMethod;
  /** Under /services/data/vXX.X (`/composite/sobjects`), or a full path (`/services/data/…`). */
  path: string;
  /** An object is sent as JSON; a string as is, with `contentType`. */
  body?: unknown;
  contentType?: string;
  /** Answer the body as text (CSV result files) instead of parsing it. */
  text?: boolean;
  /** Safe to repeat when the outcome is unknown (reads, updates, upserts; not collection creates). */
  idempotent: boolean;
  timeoutMs?: number;
}

/** Salesforce's error body: [{errorCode, message, fields?}]. */
export interface ApiFailure {
  errorCode: string;
  message: string;
  fields: string[];
}

export type ApiAnswer<T> = { ok: true; body: T } | { ok: false; failure: ApiFailure };

export class SalesforceApi {
  readonly version: string;
  requestCount = 0;
  private session?: Session;
  private conn?: JsforceConnection;
  private connecting?: Promise<void>;
  /** Bumped at each new session, so concurrent requests refused with the old token renew it once. */
  private sessionGeneration = 0;
  private readonly inFlight = new ConcurrencyLimit(MAX_IN_FLIGHT);
  private limitWarned = false;

  /** Our copy: a rotated refresh token replaces the configured one for the rest of the run. */
  private readonly config: SalesforceConfig;

  constructor(
    config: SalesforceConfig,
    private readonly log: Logger,
    private readonly events: DestinationEvents,
  ) {
    this.config = structuredClone(config);
    this.version = config.api_version ?? DEFAULT_API_VERSION;
  }

  /** The org's id once connected (stable across instance moves), else the instance host. */
  get orgKey(): string {
    return this.session?.orgId ?? new URL(this.session?.instanceUrl ?? 'http://unknown').host;
  }

  get dataPath(): string {
    return `/services/data/v${this.version}`;
  }

  async connect(): Promise<void> {
    if (this.conn) return;
    this.connecting ??= this.startSession().finally(() => (this.connecting = undefined));
    await this.connecting;
  }

  /** Sends a request; Salesforce's refusals that are about the request come back as `failure`. */
  async request<T>(request: SalesforceRequest): Promise<ApiAnswer<T>> {
    let renewed = false;
    const what = `${request.method} ${request.path.split('?')[0]}`;
    return withRetries(
      async () => {
        await this.connect();
        const generation = this.sessionGeneration;
        try {
          const body = await this.inFlight.run(() => this.send<T>(request));
          this.watchDailyLimit();
          return { ok: true as const, body };
        } catch (error) {
          const failure = failureOf(error);
          if (!failure) throw networkError(what, error);
          if (failure.errorCode === 'INVALID_SESSION_ID') {
            if (renewed || !canRenew(this.config.auth)) throw this.sessionRefused(failure, renewed);
            await this.renewSession(generation);
            renewed = true;
            throw transientError('the Salesforce session expired; renewed it', { code: 'session_expired', retryAfterMs: 0 });
          }
          const fatal = classifyFailure(what, failure);
          if (fatal) throw fatal;
          return { ok: false as const, failure };
        }
      },
      {
        retryable: (error) => isSafeToRetry(error, request.idempotent),
        onRetry: (error, attempt, delay) => this.log.debug(`${what}: ${error.message}; retry ${attempt} in ${delay} ms`),
      },
    );
  }

  /** A request whose refusal the caller cannot act on: any failure stops the run. */
  async expect<T>(request: SalesforceRequest, what: string): Promise<T> {
    const answer = await this.request<T>(request);
    if (!answer.ok) throw unexpectedFailure(what, answer.failure);
    return answer.body;
  }

  private send<T>(request: SalesforceRequest): Promise<T> {
    this.requestCount += 1;
    const url = request.path.startsWith('/services/') ? request.path : `${this.dataPath}${request.path}`;
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (typeof request.body === 'string') {
      body = request.body;
      headers['content-type'] = request.contentType ?? 'text/plain';
    } else if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      headers['content-type'] = 'application/json';
    }
    const options = {
      retry: { maxRetries: 0 },
      timeout: request.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(request.text ? { responseType: 'text/plain' } : {}),
    };
    return this.conn!.request<T>({ method: request.method, url, headers, body }, options) as Promise<T>;
  }

  private async startSession(): Promise<void> {
    const jsforce = await loadJsforce();
    const session = await openSession(this.config, jsforce);
    this.log.redactor.add(session.accessToken);
    this.keepRotatedRefreshToken(session.refreshToken);
    this.session = session;
    this.sessionGeneration += 1;
    // No oauth2 client and no refresh function: jsforce never refreshes on its own.
    this.conn = new jsforce.Connection({ instanceUrl: session.instanceUrl, accessToken: session.accessToken, version: this.version });
  }

  /** With refresh token rotation the old token stops working: the new one is kept and handed on. */
  private keepRotatedRefreshToken(refreshToken: string | undefined): void {
    const { auth } = this.config;
    if (auth.type !== 'refresh_token' || !refreshToken || refreshToken === auth.refresh_token) return;
    this.log.redactor.add(refreshToken);
    auth.refresh_token = refreshToken;
    this.events.credentialsRotated(structuredClone(this.config));
  }

  /** One renewal per expiry, shared by every request that was refused with the old token. */
  private async renewSession(refusedGeneration: number): Promise<void> {
    if (refusedGeneration !== this.sessionGeneration) return;
    // The old connection stays in place until the new one replaces it: requests keep a valid object.
    this.connecting ??= this.startSession().finally(() => (this.connecting = undefined));
    await this.connecting;
    this.log.debug('Salesforce session renewed');
  }

  private sessionRefused(failure: ApiFailure, afterRenewal: boolean): ConnectorError {
    const why = afterRenewal
      ? 'even a newly issued access token was refused'
      : 'the configured access token has expired or is invalid; give a fresh one or use an OAuth flow (client_credentials, refresh_token, jwt_bearer)';
    return configError(`Salesforce refused the session (${failure.errorCode}: ${failure.message}): ${why}`, { code: 'unauthorized' });
  }

  /** Salesforce reports the org's daily allowance on every answer (Sforce-Limit-Info). */
  private watchDailyLimit(): void {
    const usage = (this.conn?.limitInfo as { apiUsage?: { used: number; limit: number } } | undefined)?.apiUsage;
    if (!usage || this.limitWarned || usage.limit <= 0 || usage.used / usage.limit < LIMIT_WARNING_SHARE) return;
    this.limitWarned = true;
    this.log.warn(`the org has used ${usage.used} of its ${usage.limit} daily API requests`);
  }
}

/** jsforce's HttpApiError: errorCode, and the error body (or bodies) as data. */
export function failureOf(error: unknown): ApiFailure | undefined {
  const e = error as { errorCode?: unknown; message?: string; data?: unknown };
  if (typeof e?.errorCode !== 'string') return undefined;
  const data = (Array.isArray(e.data) ? e.data[0] : e.data) as { errorCode?: string; message?: string; fields?: string[] } | string | undefined;
  // A text answer (result files) carries the JSON error body unparsed.
  const parsed = typeof data === 'string' ? parseErrorText(data) : undefined;
  if (parsed) return parsed;
  if (typeof data === 'object' && data !== null) {
    return { errorCode: data.errorCode ?? e.errorCode, message: data.message ?? e.message ?? '', fields: data.fields ?? [] };
  }
  return { errorCode: e.errorCode, message: e.message ?? '', fields: [] };
}

function parseErrorText(text: string): ApiFailure | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    const first = (Array.isArray(body) ? body[0] : body) as { errorCode?: string; message?: string; fields?: string[] } | undefined;
    return typeof first?.errorCode === 'string' ? { errorCode: first.errorCode, message: first.message ?? '', fields: first.fields ?? [] } : undefined;
  } catch {
    return undefined;
  }
}

const SERVER_ERRORS = new Set(['UNKNOWN_EXCEPTION', 'SERVER_UNAVAILABLE', 'REQUEST_RUNNING_TOO_LONG']);

/** Failures no caller can act on: limits and server errors. */
function classifyFailure(what: string, failure: ApiFailure): ConnectorError | undefined {
  const { errorCode, message } = failure;
  if (errorCode === 'REQUEST_LIMIT_EXCEEDED') {
    if (/TotalRequests/i.test(message)) {
      return transientError(
        `Salesforce's daily API request limit is reached (${message}); what was written is committed. Rerun once the org's rolling 24-hour allowance frees requests (Setup → Company Information → API Requests, or /limits DailyApiRequests)`,
        { code: 'daily_limit' },
      );
    }
    return transientError(`Salesforce refused ${what}: ${message}`, { code: 'concurrent_limit' });
  }
  if (SERVER_ERRORS.has(errorCode) || /^ERROR_HTTP_5\d\d$/.test(errorCode)) {
    return transientError(`Salesforce answered ${errorCode} to ${what}: ${message.slice(0, 300)}`, { code: 'server_error' });
  }
  if (errorCode === 'API_DISABLED_FOR_ORG' || errorCode === 'API_CURRENTLY_DISABLED' || errorCode === 'INSUFFICIENT_ACCESS') {
    return configError(`Salesforce refused ${what}: ${errorCode}: ${message}`, { code: 'forbidden' });
  }
  return undefined;
}

export function unexpectedFailure(what: string, failure: ApiFailure): ConnectorError {
  return configError(`Salesforce refused ${what}: ${failure.errorCode}: ${failure.message.slice(0, 500)}`, { code: failure.errorCode });
}

function isSafeToRetry(error: ConnectorError, idempotent: boolean): boolean {
  if (error.code === 'daily_limit') return false;
  // Refused before Salesforce applied anything: always safe.
  if (['session_expired', 'token_unavailable', 'concurrent_limit', 'connection_refused'].includes(error.code ?? '')) return true;
  return idempotent;
}

function networkError(what: string, error: unknown): ConnectorError {
  if (error instanceof Error && error.name === 'AbortError') {
    return transientError(`no answer from Salesforce to ${what} in time`, { code: 'timeout', cause: error });
  }
  const cause = (error as { cause?: { code?: string; cause?: { code?: string } } }).cause;
  const code = cause?.code ?? cause?.cause?.code;
  if (!(error instanceof TypeError) && code === undefined) {
    return transientError(`request ${what} failed: ${(error as Error).message ?? String(error)}`, { code: 'network', cause: error });
  }
  return transientError(`network error on ${what}: ${code ?? (error as Error).message}`, { code: code === 'ECONNREFUSED' ? 'connection_refused' : 'network', cause: error });
}
