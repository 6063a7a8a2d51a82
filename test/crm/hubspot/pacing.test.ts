// crm.rate_limit "auto": the budget is what HubSpot's answers say, what others of the app spend is
// left to them, an explicit budget caps it, searches (no headers) change nothing, and the daily
// budget stops the run before it runs out. Decisions only, on a clock the test moves: no waiting.
import { describe, expect, it } from 'vitest';
import { HubSpotPacing } from '../../../src/crm/hubspot/pacing.ts';
import type { ConnectorError } from '../../../src/errors.ts';

const WRITE = '/crm/v3/objects/2-123/batch/upsert';
const SEARCH = '/crm/v3/objects/2-123/search';

function answer(window: { max: number; remaining: number; intervalMs?: number }, daily?: { limit: number; remaining: number }): Headers {
  const headers = new Headers({
    'x-hubspot-ratelimit-max': String(window.max),
    'x-hubspot-ratelimit-remaining': String(window.remaining),
    'x-hubspot-ratelimit-interval-milliseconds': String(window.intervalMs ?? 10_000),
  });
  if (daily) {
    headers.set('x-hubspot-ratelimit-daily', String(daily.limit));
    headers.set('x-hubspot-ratelimit-daily-remaining', String(daily.remaining));
  }
  return headers;
}

/** A clock that moves only when the pacer waits (or the test says): no test waits for real. */
function testClock() {
  const clock = { at: 1_000_000, now: () => clock.at, sleep: async (ms: number) => void (clock.at += ms) };
  return clock;
}

/** One request of ours and its answer, which counts it among the window's. */
async function send(pacing: HubSpotPacing, path: string, headers: Headers): Promise<void> {
  const answered = await pacing.take(path);
  pacing.observe(path, headers);
  answered();
}

describe('HubSpot pacing from the answers', () => {
  it('grows the budget to what HubSpot says, keeping a small reserve', async () => {
    const pacing = new HubSpotPacing('auto', testClock());
    // Until an answer says otherwise: most private apps' 100 per 10 s.
    expect(pacing.share()).toEqual({ requests: 98, intervalMs: 10_000 });
    await send(pacing, WRITE, answer({ max: 190, remaining: 189 }));
    expect(pacing.share()).toEqual({ requests: 188, intervalMs: 10_000 });
    await send(pacing, WRITE, answer({ max: 250, remaining: 249, intervalMs: 10_000 }));
    expect(pacing.share().requests).toBe(247);
  });

  it("keeps under an OAuth app's per-second budget beside the window", async () => {
    const pacing = new HubSpotPacing('auto', testClock());
    const headers = answer({ max: 110, remaining: 109 });
    headers.set('x-hubspot-ratelimit-secondly', '11');
    headers.set('x-hubspot-ratelimit-secondly-remaining', '10');
    await send(pacing, WRITE, headers);
    // 110 per 10 s less 2 would be 108; 11 a second less one is 100 per 10 s.
    expect(pacing.share()).toEqual({ requests: 100, intervalMs: 10_000 });
  });

  it('is capped by an explicit budget, whatever HubSpot grants', async () => {
    const pacing = new HubSpotPacing({ max_requests: 150, interval_ms: 10_000 }, testClock());
    await send(pacing, WRITE, answer({ max: 190, remaining: 189 }));
    expect(pacing.share().requests).toBe(150);
    // A cap over another interval is converted to the window's.
    const perSecond = new HubSpotPacing({ max_requests: 5, interval_ms: 1000 }, testClock());
    await send(perSecond, WRITE, answer({ max: 190, remaining: 189 }));
    expect(perSecond.share().requests).toBe(50);
  });

  it('leaves what other clients of the app spend to them, and takes half of what is free beside them', async () => {
    const pacing = new HubSpotPacing('auto', testClock());
    // 90 requests in the window, one of them ours: another run of the same app.
    await send(pacing, WRITE, answer({ max: 190, remaining: 100 }));
    // the one of ours + half of what is free ((190 - 1 - 89) / 2)
    expect(pacing.share().requests).toBe(51);
    // The other run went quiet: the whole budget is ours again.
    await send(pacing, WRITE, answer({ max: 190, remaining: 189 }));
    expect(pacing.share().requests).toBe(188);
  });

  it('is not starved beside a run that fills the window: grows into half of what HubSpot says is free, the reserve included', async () => {
    const pacing = new HubSpotPacing('auto', testClock());
    // Ten requests of ours under way; the other run holds the rest of the window but its reserve.
    const underWay = await Promise.all(Array.from({ length: 10 }, () => pacing.take(WRITE)));
    pacing.observe(WRITE, answer({ max: 190, remaining: 2 }));
    // Not stuck at the 10 it holds: one more, so the other run sees it grow and gives way.
    expect(pacing.share().requests).toBe(11);
    pacing.observe(WRITE, answer({ max: 190, remaining: 40 }));
    expect(pacing.share().requests).toBe(30);
    underWay.forEach((answered) => answered());
  });

  it("gets the room of others that stopped back as their requests leave the window, not before", async () => {
    const clock = testClock();
    const pacing = new HubSpotPacing('auto', clock);
    await send(pacing, WRITE, answer({ max: 190, remaining: 89 }));
    // 100 of others, still sending: half of what is free on top of ours.
    expect(pacing.share().requests).toBe(45);
    // No answer has shown them send for 2 s: all they leave is ours, and they leave 10 s after they were seen.
    clock.at += 2000;
    expect(pacing.share().requests).toBe(88);
    clock.at += 8000;
    expect(pacing.share().requests).toBe(188);
  });

  it('learns nothing about the window from a search answer, which has no headers', async () => {
    const pacing = new HubSpotPacing('auto', testClock());
    await send(pacing, WRITE, answer({ max: 190, remaining: 189 }));
    await send(pacing, SEARCH, new Headers());
    await send(pacing, SEARCH, answer({ max: 5, remaining: 0, intervalMs: 1000 }));
    expect(pacing.share()).toEqual({ requests: 188, intervalMs: 10_000 });
  });

  it('stops before the daily budget runs out, counting the requests under way, with the reset time', async () => {
    const pacing = new HubSpotPacing('auto', testClock());
    await send(pacing, WRITE, answer({ max: 190, remaining: 189 }, { limit: 500_000, remaining: 2 }));
    const first = await pacing.take(WRITE);
    const second = await pacing.take(WRITE);
    // Two left, two under way: a third would run the budget out.
    const refused = await pacing.take(WRITE).catch((error: ConnectorError) => error);
    expect(refused).toMatchObject({ category: 'transient', code: 'daily_limit' });
    expect((refused as ConnectorError).message).toMatch(/daily API limit is nearly reached: 500,000 requests a day .* 2 left and 2 under way.*rerun after midnight in the HubSpot account's time zone/);
    first();
    second();
    // Out of order: an older answer's higher count does not give requests back.
    pacing.observe(WRITE, answer({ max: 190, remaining: 180 }, { limit: 500_000, remaining: 3 }));
    pacing.observe(WRITE, answer({ max: 190, remaining: 180 }, { limit: 500_000, remaining: 0 }));
    pacing.observe(WRITE, answer({ max: 190, remaining: 180 }, { limit: 500_000, remaining: 5 }));
    await expect(pacing.take(WRITE)).rejects.toMatchObject({ code: 'daily_limit' });
  });
});
