// The retry policy shared by the CRM clients: what is retried, how often, for how long.
import { describe, expect, it } from 'vitest';
import { configError, transientError, type ConnectorError } from '../../../src/errors.ts';
import { RATE_LIMITED, withRetries, type RetryPolicy } from '../../../src/crm/http/retry.ts';

const FAST: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, deadlineMs: 10_000 };

function failing(errors: ConnectorError[]): { run: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    run: async () => {
      const error = errors[calls++];
      if (error) throw error;
      return 'done';
    },
    calls: () => calls,
  };
}

const always = { retryable: () => true };
const serverError = () => transientError('HubSpot answered 503', { code: 'server_error' });
const rateLimited = () => transientError('rate limit', { code: RATE_LIMITED, retryAfterMs: 1 });

describe('withRetries', () => {
  it('retries transient failures up to maxAttempts in all, then gives up keeping the code', async () => {
    const ok = failing([serverError(), serverError()]);
    await expect(withRetries(ok.run, always, FAST)).resolves.toBe('done');
    const tooMany = failing([serverError(), serverError(), serverError()]);
    const error = await withRetries(tooMany.run, always, FAST).catch((e: ConnectorError) => e);
    expect(error).toMatchObject({ category: 'transient', code: 'server_error', message: expect.stringContaining('gave up after 3 attempts') });
    expect(tooMany.calls()).toBe(3);
  });

  it('does not count rate-limit waits as attempts', async () => {
    const storm = failing([...Array.from({ length: 10 }, rateLimited), serverError()]);
    await expect(withRetries(storm.run, always, FAST)).resolves.toBe('done');
    expect(storm.calls()).toBe(12);
  });

  it('stops before a wait would pass the deadline, saying how long the CRM asked to wait', async () => {
    const dailyish = failing([transientError('rate limit', { code: RATE_LIMITED, retryAfterMs: 60_000 })]);
    const started = Date.now();
    const error = await withRetries(dailyish.run, always, { ...FAST, deadlineMs: 1000 }).catch((e: ConnectorError) => e);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toMatchObject({ code: RATE_LIMITED, message: expect.stringMatching(/^the CRM asked to wait 60 s, more than max_retry_ms 1000 allows; rerun after (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC/) });
  });

  it('never retries what is not transient or not safe to repeat', async () => {
    const config = failing([configError('bad token')]);
    await expect(withRetries(config.run, always, FAST)).rejects.toMatchObject({ category: 'config' });
    expect(config.calls()).toBe(1);
    const unsafe = failing([serverError()]);
    await expect(withRetries(unsafe.run, { retryable: () => false }, FAST)).rejects.toMatchObject({ code: 'server_error' });
    expect(unsafe.calls()).toBe(1);
  });
});
