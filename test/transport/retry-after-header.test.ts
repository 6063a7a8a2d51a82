// Retry-After comes in two forms (RFC 9110): a number of seconds, or an HTTP date, which proxies
// and maintenance pages send. Both are waits the CRM asks for, and both count against max_retry_ms.
import { describe, expect, it } from 'vitest';
import { retryAfterMs } from '../../src/crm/http/retry.ts';

const header = (value: string) => new Headers({ 'retry-after': value });

describe('retryAfterMs', () => {
  it('reads seconds', () => {
    expect(retryAfterMs(header('3600'))).toBe(3_600_000);
    expect(retryAfterMs(header('0'))).toBeUndefined();
    expect(retryAfterMs(new Headers())).toBeUndefined();
  });

  it('reads an HTTP date as the wait until then', () => {
    const now = Date.parse('2026-12-02T07:00:00Z');
    expect(retryAfterMs(header('Wed, 02 Dec 2026 08:00:00 GMT'), now)).toBe(3_600_000);
    // A date already past asks for no wait.
    expect(retryAfterMs(header('Wed, 02 Dec 2026 06:00:00 GMT'), now)).toBeUndefined();
    expect(retryAfterMs(header('soon'), now)).toBeUndefined();
  });
});
