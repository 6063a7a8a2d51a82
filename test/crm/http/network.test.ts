// Failures without an answer: which ones the CRM may have applied.
import { describe, expect, it } from 'vitest';
import { isAmbiguous, networkFailure } from '../../../src/crm/http/network.ts';

const fetchFailed = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });

describe('networkFailure', () => {
  it('tells a connection never made (safe to resend) from one cut off or timed out (ambiguous)', () => {
    const refused = networkFailure(fetchFailed('ECONNREFUSED'), 'POST /x', 'HubSpot');
    expect(refused.code).toBe('connection_refused');
    expect(isAmbiguous(refused)).toBe(false);

    const cut = networkFailure(fetchFailed('UND_ERR_SOCKET'), 'POST /x', 'HubSpot');
    expect(cut).toMatchObject({ category: 'transient', code: 'network', message: 'network error on POST /x: UND_ERR_SOCKET' });
    expect(isAmbiguous(cut)).toBe(true);

    const timedOut = networkFailure(new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'POST /x', 'HubSpot');
    expect(timedOut).toMatchObject({ code: 'timeout', message: 'HubSpot did not answer POST /x in time (timed out)' });
    expect(isAmbiguous(timedOut)).toBe(true);

    const socketTimeout = networkFailure(Object.assign(new Error('no answer within 10 ms'), { code: 'ETIMEDOUT' }), 'GET /s', 'HubSpot');
    expect(socketTimeout.code).toBe('timeout');
  });
});
