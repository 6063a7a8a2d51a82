// Bounded retries for transient failures: the CRM's Retry-After when it gives one, else
// exponential backoff with full jitter. Only errors marked transient are retried, and only for
// requests that are safe to repeat; everything else goes straight back to the caller.
//
// Two bounds: failures (5xx, network, timeouts) are tried `maxAttempts` times; rate-limit waits
// do not count as failures (a 429 storm is the CRM pacing us, not breaking) but every wait counts
// against `deadlineMs`, so a CRM that cannot make progress ends the run with a transient error
// instead of stalling the pipeline for hours (Airbyte fails a destination that blocks for 2 h).
// A wait the CRM asks for that is longer than what is left of `deadlineMs` is not started: the
// error names it and when to come back, at once, instead of after a silent hour.
import { asConnectorError, INTERRUPTED, transientError, type ConnectorError } from '../../errors.js';
import { NOT_CONNECTED } from './network.js';
import { sleep } from './sleep.js';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** How long one request may keep retrying, waits included. */
  deadlineMs: number;
}

export const DEFAULT_DEADLINE_MS = 15 * 60_000;
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 30_000, deadlineMs: DEFAULT_DEADLINE_MS };

/** The error code of a refusal that says "wait", not "failed": it does not use up an attempt. */
export const RATE_LIMITED = 'rate_limited';
/** The CRM's daily allowance is used up: no retry within this run can succeed. */
export const DAILY_LIMIT = 'daily_limit';

/**
 * Whether a failed request may be sent again: never past the daily limit; always when the CRM
 * refused it before applying anything (throttled, never connected, or a CRM's own such codes,
 * `notApplied`); otherwise only when repeating it is harmless (`idempotent`).
 */
export function isSafeToRetry(error: ConnectorError, idempotent: boolean, notApplied: readonly string[] = []): boolean {
  if (error.code === DAILY_LIMIT) return false;
  if (error.code === RATE_LIMITED || error.code === NOT_CONNECTED || notApplied.includes(error.code ?? '')) return true;
  return idempotent;
}

/** A Retry-After header's wait in milliseconds (seconds, or an HTTP date as proxies send), when it gives a positive one. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  const waitMs = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isFinite(waitMs) && waitMs > 0 ? waitMs : undefined;
}

export interface RetryHooks {
  /** Whether this failure may be retried (idempotent request, or refused before it was applied). */
  retryable(error: ConnectorError): boolean;
  onRetry?(error: ConnectorError, attempt: number, delayMs: number): void;
  /** Aborted when the run is stopping (SIGTERM): no new wait starts, a wait under way ends. */
  stopping?: AbortSignal;
  /** Who asks to wait (HubSpot, Salesforce), for the message of a wait that is too long. */
  service?: string;
}

export async function withRetries<T>(
  run: () => Promise<T>,
  hooks: RetryHooks,
  policy: RetryPolicy = DEFAULT_RETRY,
  now: () => number = Date.now,
): Promise<T> {
  const startedAt = now();
  let failures = 0;
  for (;;) {
    try {
      return await run();
    } catch (thrown) {
      const error = asConnectorError(thrown);
      if (error.category !== 'transient' || !hooks.retryable(error)) throw error;
      if (hooks.stopping?.aborted) throw interrupted(error);
      if (error.code !== RATE_LIMITED) failures += 1;
      if (failures >= policy.maxAttempts) throw gaveUp(error, `after ${failures} attempts`);
      const delay = error.retryAfterMs ?? backoff(failures, policy);
      const elapsed = now() - startedAt;
      if (error.retryAfterMs !== undefined && elapsed + delay > policy.deadlineMs) throw waitTooLong(error, hooks.service, policy, now());
      if (elapsed + delay > policy.deadlineMs) {
        throw gaveUp(error, `after retrying for ${seconds(elapsed)} s (the limit is ${seconds(policy.deadlineMs)} s)`);
      }
      hooks.onRetry?.(error, failures, delay);
      await sleep(delay, hooks.stopping);
      if (hooks.stopping?.aborted) throw interrupted(error);
    }
  }
}

/** Keeps the code (callers still tell an ambiguous write from a refusal) and says when to come back. */
function gaveUp(error: ConnectorError, how: string): ConnectorError {
  const comeBack = error.retryAfterMs !== undefined && error.retryAfterMs > 0 ? `; the CRM asked to wait ${seconds(error.retryAfterMs)} s` : '';
  return transientError(`${error.message}; gave up ${how}${comeBack}; rerun later`, { code: error.code, field: error.field, retryAfterMs: error.retryAfterMs, cause: error });
}

function interrupted(error: ConnectorError): ConnectorError {
  return transientError(`${error.message}; not retried because the run is stopping`, { code: INTERRUPTED, cause: error });
}

/** The CRM asked for a wait the retry budget cannot cover: said at once, with when to come back. */
function waitTooLong(error: ConnectorError, service = 'the CRM', policy: RetryPolicy, now: number): ConnectorError {
  const waitMs = error.retryAfterMs!;
  const source = error.retryAfterHeader ? ' (Retry-After)' : '';
  return transientError(
    `${service} asked to wait ${Math.ceil(waitMs / 1000)} s${source}, more than max_retry_ms ${policy.deadlineMs} allows; rerun after ${utcTime(now + waitMs, now)} (${error.message})`,
    { code: error.code, field: error.field, retryAfterMs: waitMs, retryAfterHeader: error.retryAfterHeader, cause: error },
  );
}

/** 12:34 UTC, with the date when it is not today's (UTC); rounded up, so never too early. */
function utcTime(time: number, now: number): string {
  const at = new Date(Math.ceil(time / 60_000) * 60_000).toISOString();
  const day = at.slice(0, 10) === new Date(now).toISOString().slice(0, 10) ? '' : `${at.slice(0, 10)} `;
  return `${day}${at.slice(11, 16)} UTC`;
}

export function backoff(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 ? 1 : 0);
}
