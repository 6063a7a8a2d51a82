// The rate limiter's waits obey the same two rules as every other wait: none is longer than the
// caller may wait (a pause the CRM asked for beyond it is refused at once, naming the wait), and a
// stopping run ends them all at once. No test here waits: the pauses are an hour long.
import { describe, expect, it } from 'vitest';
import { transientError } from '../../src/errors.ts';
import { RollingWindowLimiter } from '../../src/crm/http/rate-limiter.ts';

const HOUR_MS = 3_600_000;
const asked = transientError('HubSpot rate limit (TEN_SECONDLY_ROLLING)', { code: 'rate_limited', retryAfterMs: HOUR_MS, retryAfterHeader: true });

describe('RollingWindowLimiter waits', () => {
  it('refuses at once a pause longer than the caller may wait, with the wait left and its cause', async () => {
    const limiter = new RollingWindowLimiter(10, 1000);
    limiter.pauseUntil(Date.now() + HOUR_MS, asked);
    const refused = await limiter.take(undefined, 300_000).catch((error: unknown) => error);
    expect(refused).toMatchObject({ category: 'transient', code: 'rate_limited', retryAfterHeader: true, message: asked.message });
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(HOUR_MS - 60_000);
    // The refusal does not block the line: the next caller is answered (refused too) at once.
    await expect(limiter.take(undefined, 300_000)).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('ends every wait in line at once when the run stops', async () => {
    const limiter = new RollingWindowLimiter(1, 1000);
    const stopping = new AbortController();
    await limiter.take(stopping.signal); // holds the only place, never answered
    const waiting = [limiter.take(stopping.signal), limiter.take(stopping.signal)];
    limiter.pauseUntil(Date.now() + HOUR_MS, asked);
    const paused = limiter.take(stopping.signal);
    stopping.abort('SIGTERM');
    for (const wait of [...waiting, paused]) await expect(wait).rejects.toMatchObject({ category: 'transient', code: 'interrupted' });
  });
});
