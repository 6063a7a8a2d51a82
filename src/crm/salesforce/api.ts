// The one door to Salesforce. jsforce's OAuth2 gets the tokens (auth.ts); API requests go out with
// fetch, as HubSpot's batch calls do, because jsforce's Connection.request hides what this door
// must see and decide: it drops the status and headers of a refusal (Retry-After), bounds only the
// wait for headers (a stalled answer body hangs), and cannot be told to give up. Here requests are
// capped in number at once, bounded by crm.request_timeout_ms (answer included), classified into
// our error categories, retried only when safe and for at most crm.max_retry_ms, and an expired
// session (INVALID_SESSION_ID) is renewed once before the run gives up. Answers the caller must
// interpret (a refused collection, an unknown object) come back as values.
import type { SalesforceConfig } from '../../config/spec.js';
import type { DestinationEvents } from '../destination.js';
import { asConnectorError, configError, transientError, type ConnectorError } from '../../errors.js';
import type { Logger } from '../../protocol/log.js';
import { CrmHttpClient, type RawAnswer } from '../http/client.js';
import { ConcurrencyLimit } from '../http/concurrency.js';
import { bodyExcerpt, garbledAnswer, SERVER_ERROR } from '../http/network.js';
import { DAILY_LIMIT, RATE_LIMITED, retryAfterMs } from '../http/retry.js';
import { ApiUsageShare, DEFAULT_MAX_API_USAGE_PERCENT, type QuotaClaim } from './api-usage.js';
import { canRenew, openSession, TOKEN_UNAVAILABLE, type Session } from './auth.js';
import { loadJsforce } from './jsforce.js';

export const DEFAULT_API_VERSION = '62.0';
/** Requests in flight at once: Salesforce allows 25 long-running ones per org, shared with other apps. */
const MAX_IN_FLIGHT = 8;
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
/**
 * Salesforce refuses a request beyond the org's concurrent long-running requests (REQUEST_LIMIT_EXCEEDED,
 * ConcurrentRequests) without a hint of when to come back; a slot frees as soon as one of them ends.
 */
const CONCURRENT_LIMIT_WAIT_MS = 1000;

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
  /** Overrides crm.request_timeout_ms (uploads of large files). */
  timeoutMs?: number;
  /** Told of each send (retries included): an object's own request count for the run report. */
  onSent?: () => void;
  /**
   * What is wrong with a 2xx answer's body (parsed JSON, or the text of a `text` request) that is
   * not the one asked for; undefined when it is. Such an answer counts as lost (GARBLED).
   */
  checkAnswer?: (body: any) => string | undefined;
  /** What the request commits the run to against crm.max_api_usage_percent (default: itself, one call). */
  quota?: QuotaClaim;
}

/** Salesforce's error body: [{errorCode, message, fields?}]. */
export interface ApiFailure {
  status: number;
  errorCode: string;
  message: string;
  fields: string[];
}

export type ApiAnswer<T> = { ok: true; body: T } | { ok: false; failure: ApiFailure };

/** What the writers and their helpers need of the API: SalesforceApi itself or one object's view. */
export type ApiDoor = Pick<SalesforceApi, 'request' | 'expect' | 'stopSignal' | 'interruptSignal' | 'requestTimeoutMs' | 'userId' | 'dataPath'>;

/** One object's view of the API: the same session, pacing and retries, its own request count. */
export class ObjectApi implements ApiDoor {
  requests = 0;
  private readonly count = () => void (this.requests += 1);

  constructor(private readonly api: SalesforceApi) {}

  request<T>(request: SalesforceRequest): Promise<ApiAnswer<T>> {
    return this.api.request<T>({ ...request, onSent: this.count });
  }

  expect<T>(request: SalesforceRequest, what: string): Promise<T> {
    return this.api.expect<T>({ ...request, onSent: this.count }, what);
  }

  get stopSignal(): AbortSignal {
    return this.api.stopSignal;
  }

  get interruptSignal(): AbortSignal {
    return this.api.interruptSignal;
  }

  get requestTimeoutMs(): number {
    return this.api.requestTimeoutMs;
  }

  get userId(): string | undefined {
    return this.api.userId;
  }

  get dataPath(): string {
    return this.api.dataPath;
  }
}

export class SalesforceApi extends CrmHttpClient {
  readonly version: string;
  requestCount = 0;
  private session?: Session;
  private connecting?: Promise<void>;
  /** Bumped at each new session, so concurrent requests refused with the old token renew it once. */
  private sessionGeneration = 0;
  private readonly inFlight = new ConcurrencyLimit(MAX_IN_FLIGHT);
  private readonly usage: ApiUsageShare;

  /** Our copy: a rotated refresh token replaces the configured one for the rest of the run. */
  private readonly config: SalesforceConfig;

  constructor(
    config: SalesforceConfig,
    log: Logger,
    private readonly events: DestinationEvents,
  ) {
    super('Salesforce', log, { request_timeout_ms: config.request_timeout_ms ?? DEFAULT_REQUEST_TIMEOUT_MS, max_retry_ms: config.max_retry_ms });
    this.config = structuredClone(config);
    this.version = config.api_version ?? DEFAULT_API_VERSION;
    this.usage = new ApiUsageShare(config.max_api_usage_percent ?? DEFAULT_MAX_API_USAGE_PERCENT, log);
  }

  /** The org's id once connected (stable across instance moves), else the instance host. */
  get orgKey(): string {
    return this.session?.orgId ?? new URL(this.session?.instanceUrl ?? 'http://unknown').host;
  }

  /** The signed-in user's 15-character id, when the token answer named it. */
  get userId(): string | undefined {
    return this.session?.userId;
  }

  get dataPath(): string {
    return `/services/data/v${this.version}`;
  }

  get requestTimeoutMs(): number {
    return this.timeoutMs;
  }

  async connect(): Promise<void> {
    if (this.session) return;
    this.connecting ??= this.startSession().then(() => this.readApiUsage()).finally(() => (this.connecting = undefined));
    await this.connecting;
  }

  /** The org's daily API usage before the run spends any (answers report it from then on). */
  private async readApiUsage(): Promise<void> {
    try {
      this.usage.observeLimits(await this.expect({ method: 'GET', path: '/limits', idempotent: true }, "the org's limits"));
    } catch (thrown) {
      const error = asConnectorError(thrown);
      if (error.category === 'bug') throw error;
      this.log.warn(`could not read the org's API usage from /limits (${error.message}); crm.max_api_usage_percent is checked from the answers' Sforce-Limit-Info only`);
    }
  }

  /** Sends a request; Salesforce's refusals that are about the request come back as `failure`. */
  async request<T>(request: SalesforceRequest): Promise<ApiAnswer<T>> {
    const what = `${request.method} ${request.path.split('?')[0]}`;
    return this.retrying({ what, idempotent: request.idempotent, notApplied: [TOKEN_UNAVAILABLE] }, async (attempts) => {
      await this.connect();
      const generation = this.sessionGeneration;
      const answer = await this.inFlight.run(() => this.sendWithinShare(request, what));
      if (answer.status < 300) {
        return { ok: true as const, body: bodyOf<T>(answer, request, what) };
      }
      const failure = failureOf(answer);
      if (answer.status === 401 || failure.errorCode === 'INVALID_SESSION_ID') {
        if (attempts.renewed || !canRenew(this.config.auth)) throw this.sessionRefused(failure, attempts.renewed);
        await this.renewSession(generation);
        throw this.renewed(attempts, 'the Salesforce session expired; renewed it');
      }
      const fatal = this.classify(what, failure, answer.headers);
      if (fatal) throw fatal;
      return { ok: false as const, failure };
    });
  }

  /** A request whose refusal the caller cannot act on: any failure stops the run. */
  async expect<T>(request: SalesforceRequest, what: string): Promise<T> {
    const answer = await this.request<T>(request);
    if (!answer.ok) throw unexpectedFailure(what, answer.failure);
    return answer.body;
  }

  /** Sends unless it would take the org's usage past crm.max_api_usage_percent; reads the usage off the answer. */
  private async sendWithinShare(request: SalesforceRequest, what: string): Promise<RawAnswer> {
    const settled = this.usage.admit(request.quota);
    try {
      const answer = await this.send(request, what);
      this.usage.observe(answer.headers);
      return answer;
    } finally {
      settled();
    }
  }

  private async send(request: SalesforceRequest, what: string): Promise<RawAnswer> {
    this.requestCount += 1;
    request.onSent?.();
    const session = this.session!;
    const path = request.path.startsWith('/services/') ? request.path : `${this.dataPath}${request.path}`;
    const headers: Record<string, string> = {
      authorization: `Bearer ${session.accessToken}`,
      accept: request.text ? 'text/csv' : 'application/json',
    };
    let body: string | undefined;
    if (typeof request.body === 'string') {
      body = request.body;
      headers['content-type'] = request.contentType ?? 'text/plain';
    } else if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      headers['content-type'] = 'application/json';
    }
    // The instance URL is the configured one for a fixed token, else the one the token endpoint named.
    const setting = this.config.auth.type === 'access_token' ? 'crm.auth.instance_url' : 'the instance_url of the token answer';
    return this.fetchAnswer({ url: `${session.instanceUrl}${path}`, method: request.method, headers, body, timeoutMs: request.timeoutMs }, what, { url: session.instanceUrl, setting });
  }

  /** Failures no caller can act on: limits, server errors, refusals of access. */
  private classify(what: string, failure: ApiFailure, headers: Headers): ConnectorError | undefined {
    const { status, errorCode, message } = failure;
    const retryAfter = retryAfterMs(headers);
    if (errorCode === 'REQUEST_LIMIT_EXCEEDED') {
      if (/TotalRequests/i.test(message)) {
        return transientError(
          `Salesforce's daily API request limit is reached (${message}); what was written is committed. Rerun once the org's rolling 24-hour allowance frees requests (Setup → Company Information → API Requests, or /limits DailyApiRequests)`,
          { code: DAILY_LIMIT },
        );
      }
      // Refused at the door (too many long-running requests at once): nothing was applied, and
      // waiting is pacing, not failing.
      const waitMs = retryAfter ?? CONCURRENT_LIMIT_WAIT_MS;
      this.events.rateLimited(Date.now() + waitMs);
      return transientError(`Salesforce refused ${what}: ${message}`, { code: RATE_LIMITED, retryAfterMs: waitMs, retryAfterHeader: retryAfter !== undefined });
    }
    if (status >= 500) {
      return transientError(`Salesforce answered ${status} ${errorCode} to ${what}: ${message.slice(0, 300)}`, { code: SERVER_ERROR, retryAfterMs: retryAfter, retryAfterHeader: retryAfter !== undefined });
    }
    if (status === 403 || errorCode === 'API_DISABLED_FOR_ORG' || errorCode === 'API_CURRENTLY_DISABLED') {
      return configError(`Salesforce refused ${what} (${status}): ${errorCode}: ${message.slice(0, 500)}`, { code: 'forbidden' });
    }
    return undefined;
  }

  private async startSession(): Promise<void> {
    const jsforce = await loadJsforce();
    const session = await openSession(this.config, jsforce, this.log.redactor, this.timeoutMs);
    this.keepRotatedRefreshToken(session.refreshToken);
    this.session = session;
    this.sessionGeneration += 1;
  }

  /** With refresh token rotation the old token stops working: the new one is kept and handed on. */
  private keepRotatedRefreshToken(refreshToken: string | undefined): void {
    const { auth } = this.config;
    if (auth.type !== 'refresh_token' || !refreshToken || refreshToken === auth.refresh_token) return;
    auth.refresh_token = refreshToken;
    this.events.credentialsRotated(structuredClone(this.config));
  }

  /** One renewal per expiry, shared by every request that was refused with the old token. */
  private async renewSession(refusedGeneration: number): Promise<void> {
    if (refusedGeneration !== this.sessionGeneration) return;
    // The old session stays in place until the new one replaces it: requests keep a valid object.
    this.connecting ??= this.startSession().finally(() => (this.connecting = undefined));
    await this.connecting;
    this.log.debug('Salesforce session renewed');
  }

  private sessionRefused(failure: ApiFailure, afterRenewal: boolean): ConnectorError {
    const why = afterRenewal
      ? 'even after refreshing it: a newly issued access token was refused too; check that the connected app and the user still have API access'
      : 'the configured access token has expired or is invalid; give a fresh one or use an OAuth flow (client_credentials, refresh_token, jwt_bearer)';
    return configError(`Salesforce refused the session (${failure.errorCode}: ${failure.message.slice(0, 300)}): ${why}`, { code: 'unauthorized' });
  }
}

/** A 2xx answer's body; one that is not the expected answer (a proxy's page, cut off, another shape) is a lost answer. */
function bodyOf<T>(answer: RawAnswer, request: SalesforceRequest, what: string): T {
  const body = request.text ? answer.text : parsedBody(answer, what);
  const problem = request.checkAnswer?.(body);
  if (problem) throw garbledAnswer('Salesforce', what, problem);
  return body as T;
}

function parsedBody(answer: RawAnswer, what: string): unknown {
  if (answer.status === 204 || answer.text === '') return undefined;
  try {
    return JSON.parse(answer.text);
  } catch {
    throw garbledAnswer('Salesforce', what, `the body is not JSON: ${bodyExcerpt(answer.text)}`);
  }
}

/** Salesforce's [{errorCode, message, fields}] (or one such object); an edge page or proxy answer as ERROR_HTTP_<status>. */
export function failureOf(answer: RawAnswer): ApiFailure {
  try {
    const body = JSON.parse(answer.text) as unknown;
    const first = (Array.isArray(body) ? body[0] : body) as { errorCode?: unknown; message?: unknown; fields?: unknown } | undefined;
    if (typeof first?.errorCode === 'string') {
      const fields = Array.isArray(first.fields) ? first.fields.map(String) : [];
      return { status: answer.status, errorCode: first.errorCode, message: String(first.message ?? ''), fields };
    }
  } catch {
    // Not JSON: an HTML page from Salesforce's edge or a proxy.
  }
  const text = answer.text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return { status: answer.status, errorCode: `ERROR_HTTP_${answer.status}`, message: text.slice(0, 300), fields: [] };
}

/** Retry-After in seconds (Salesforce's own answers rarely carry one; its edge and proxies may). */
export function unexpectedFailure(what: string, failure: ApiFailure): ConnectorError {
  return configError(`Salesforce refused ${what}: ${failure.errorCode}: ${failure.message.slice(0, 500)}`, { code: failure.errorCode });
}

