// What every CRM's API door shares: one fetch bounded by the request timeout (the answer's body
// included) whose network failures are mapped to our categories naming the setting behind the URL,
// one retry loop (bounded by crm.max_retry_ms, ended by the stop signal), one renewal of refused
// credentials per request, and one way of saying retries on stderr. A CRM's door extends it with
// its own authentication, pacing and reading of refusals.
import { transientError, type ConnectorError } from '../../errors.js';
import type { Logger } from '../../protocol/log.js';
import type { StopReason } from '../destination.js';
import { networkFailure, type Endpoint } from './network.js';
import { DEFAULT_DEADLINE_MS, DEFAULT_RETRY, isSafeToRetry, RATE_LIMITED, withRetries, type RetryPolicy } from './retry.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './timeout-agent.js';

/** The CRM refused the credentials and new ones were obtained: the request goes again at once. */
export const CREDENTIALS_RENEWED = 'credentials_renewed';

export interface ClientSettings {
  request_timeout_ms?: number;
  max_retry_ms?: number;
}

/** An answer as it came: the caller reads its status and body in the CRM's terms. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export interface Outgoing {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Overrides crm.request_timeout_ms (uploads of large files). */
  timeoutMs?: number;
}

/** One request's attempts: its credentials are renewed at most once. */
export interface Attempts {
  renewed: boolean;
}

/** What a request is, for its retries: its name in messages, whether repeating it is harmless, the CRM's codes for "refused before applied". */
export interface RetryTerms {
  what: string;
  idempotent: boolean;
  notApplied?: readonly string[];
}

export class CrmHttpClient {
  readonly timeoutMs: number;
  protected readonly retryPolicy: RetryPolicy;
  private readonly stopping = new AbortController();
  private readonly interrupting = new AbortController();

  /** `service` is the CRM's name, in messages. */
  constructor(protected readonly service: string, protected readonly log: Logger, settings: ClientSettings) {
    this.timeoutMs = settings.request_timeout_ms ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.retryPolicy = { ...DEFAULT_RETRY, deadlineMs: settings.max_retry_ms ?? DEFAULT_DEADLINE_MS };
  }

  /** Aborted when the run is stopping: retry waits end with it. */
  get stopSignal(): AbortSignal {
    return this.stopping.signal;
  }

  /** Aborted when a signal stops the run: the long waits of callers (Bulk API polls) end with it too. */
  get interruptSignal(): AbortSignal {
    return this.interrupting.signal;
  }

  /** The run is stopping: requests under way finish, but none waits to be retried. */
  stopRetrying(why: StopReason = 'failure'): void {
    this.stopping.abort();
    if (why === 'signal') this.interrupting.abort();
  }

  /**
   * Runs `attempt` until it answers, retrying what is safe to retry: transient failures of an
   * idempotent request, and any request refused before it was applied (`notApplied` codes, and a
   * renewal of credentials).
   */
  protected retrying<T>({ what, idempotent, notApplied = [] }: RetryTerms, attempt: (attempts: Attempts) => Promise<T>): Promise<T> {
    const attempts: Attempts = { renewed: false };
    return withRetries(
      () => attempt(attempts),
      {
        retryable: (error) => isSafeToRetry(error, idempotent, [CREDENTIALS_RENEWED, ...notApplied]),
        onRetry: (error, count, delay) => this.logRetry(what, error, count, delay),
        stopping: this.stopSignal,
        service: this.service,
      },
      this.retryPolicy,
    );
  }

  /** The error that sends a request again at once with the credentials just renewed. */
  protected renewed(attempts: Attempts, message: string): ConnectorError {
    attempts.renewed = true;
    return transientError(message, { code: CREDENTIALS_RENEWED, retryAfterMs: 0 });
  }

  /** Sends one request; a failure to connect or to read the whole answer in time names `endpoint`'s setting. */
  protected async fetchAnswer(request: Outgoing, what: string, endpoint: Endpoint): Promise<RawAnswer> {
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        // Covers the answer's body too: a server that stalls halfway is as hung as a silent one.
        signal: AbortSignal.timeout(request.timeoutMs ?? this.timeoutMs),
      });
      return { status: response.status, headers: response.headers, text: await response.text() };
    } catch (error) {
      throw networkFailure(error, what, this.service, endpoint);
    }
  }

  /** Failures and long waits are said on stderr (a retried failure must not be silent); short limit pauses are pacing. */
  private logRetry(what: string, error: ConnectorError, attempt: number, delayMs: number): void {
    const line = `${what}: ${error.message}; retrying in ${(delayMs / 1000).toFixed(1)} s`;
    if (error.code === CREDENTIALS_RENEWED) this.log.debug(line);
    else if (error.code !== RATE_LIMITED) this.log.warn(`${line} (attempt ${attempt + 1} of ${this.retryPolicy.maxAttempts})`);
    else if (delayMs >= 5000) this.log.info(line);
    else this.log.debug(line);
  }
}
