// Bounded retries for transient failures: the CRM's Retry-After when it gives one, else
// exponential backoff with full jitter. Only errors marked transient are retried, and only for
// requests that are safe to repeat; everything else goes straight back to the caller.
import { asConnectorError, type ConnectorError } from '../../errors.js';
import { sleep } from './rate-limiter.js';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 30_000 };

export interface RetryHooks {
  /** Whether this failure may be retried (idempotent request, or refused before it was applied). */
  retryable(error: ConnectorError): boolean;
  onRetry?(error: ConnectorError, attempt: number, delayMs: number): void;
}

export async function withRetries<T>(run: () => Promise<T>, hooks: RetryHooks, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (thrown) {
      const error = asConnectorError(thrown);
      if (error.category !== 'transient' || attempt >= policy.maxAttempts || !hooks.retryable(error)) throw error;
      const delay = error.retryAfterMs ?? backoff(attempt, policy);
      hooks.onRetry?.(error, attempt, delay);
      await sleep(delay);
    }
  }
}

function backoff(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
