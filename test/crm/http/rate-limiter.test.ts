// The rolling-window pacer: a request holds its place from send to answer and counts as arriving
// when its answer is back, so the CRM (which counts arrivals) never sees more than the budget.
import { describe, expect, it } from 'vitest';
import { RollingWindowLimiter } from '../../../src/crm/http/rate-limiter.ts';

describe('RollingWindowLimiter', () => {
  it('admits the budget at once, then the next request one interval after the oldest answer', async () => {
    const limiter = new RollingWindowLimiter(3, 200);
    const started = Date.now();
    const answers = await Promise.all([limiter.take(), limiter.take(), limiter.take()]);
    expect(Date.now() - started).toBeLessThan(100);
    await new Promise((resolve) => setTimeout(resolve, 50));
    answers.forEach((answered) => answered());
    const answeredAt = Date.now();
    await limiter.take();
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(195);
  });

  it('keeps a request that has not answered in the window however long it takes, and waits for its answer', async () => {
    const limiter = new RollingWindowLimiter(1, 50);
    const slow = await limiter.take();
    let admitted = false;
    const next = limiter.take().then((answered) => { admitted = true; return answered; });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(admitted).toBe(false);
    slow();
    const answeredAt = Date.now();
    await next;
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(45);
  });

  it('waits out a pause the CRM asked for', async () => {
    const limiter = new RollingWindowLimiter(10, 1000);
    limiter.pauseUntil(Date.now() + 120);
    const started = Date.now();
    (await limiter.take())();
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
  });
});
