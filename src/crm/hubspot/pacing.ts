// HubSpot's budgets as its answers report them (crm.rate_limit "auto", the default):
// - X-HubSpot-RateLimit-Max per -Interval-Milliseconds, with -Remaining: the app's rolling window,
//   shared with every other client of the app (SharedWindowPacer), and -Secondly beside it (OAuth
//   apps). An explicit {max_requests, interval_ms} caps it.
// - X-HubSpot-RateLimit-Daily / -Daily-Remaining (private apps): the account's daily budget. The
//   run stops cleanly, with a transient error, before its requests would run it out.
// - Search answers carry no such header and have a per-second budget of their own: searches are
//   paced apart, and their answers leave the window's picture as it was.
import type { HubSpotConfig } from '../../config/spec.js';
import { transientError, type ConnectorError } from '../../errors.js';
import { REAL_CLOCK, RollingWindowLimiter, type Clock } from '../http/rate-limiter.js';
import { DAILY_LIMIT } from '../http/retry.js';
import { SharedWindowPacer, type Budget } from '../http/shared-window.js';
import { UnderWay } from '../http/under-way.js';

/** Most private apps' budget: what is assumed until HubSpot's first answer says otherwise. */
const ASSUMED_BUDGET: Budget = { max: 100, intervalMs: 10_000 };
/** The highest budget HubSpot sells (the API limit increase): 250 per 10 s. */
const TOP_REQUESTS_PER_SECOND = 25;
/** HubSpot's search budget: 5 per second per account; one less, for the account's other clients. */
const SEARCH_BUDGET: Budget = { max: 4, intervalMs: 1000 };
const HEADER = 'x-hubspot-ratelimit-';
/** More than any run has in flight: a daily count this much higher than the last is a new day's. */
const OUT_OF_ORDER_SLACK = 100;

export const DAILY_RESET = "rerun after midnight in the HubSpot account's time zone, when it resets";

export class HubSpotPacing {
  private readonly window: SharedWindowPacer;
  private readonly search = new RollingWindowLimiter(SEARCH_BUDGET.max, SEARCH_BUDGET.intervalMs);
  private readonly cap?: Budget;
  private daily?: { limit: number; remaining: number };
  private readonly underWay = new UnderWay();

  constructor(rateLimit: HubSpotConfig['rate_limit'], clock: Clock = REAL_CLOCK) {
    this.cap = typeof rateLimit === 'object'
      ? { max: rateLimit.max_requests ?? ASSUMED_BUDGET.max, intervalMs: rateLimit.interval_ms ?? ASSUMED_BUDGET.intervalMs }
      : undefined;
    this.window = new SharedWindowPacer(ASSUMED_BUDGET, this.cap, clock);
  }

  /** Requests per second at most: the cap's, else HubSpot's highest tier (writers size their concurrency by it). */
  get requestsPerSecond(): number {
    return this.cap ? this.cap.max / (this.cap.intervalMs / 1000) : TOP_REQUESTS_PER_SECOND;
  }

  /**
   * Waits for the request's turn; throws a daily-limit error instead when the daily budget is spent,
   * and as the pacers' take() when the run stops or a pause would outlast `maxWaitMs`.
   */
  async take(path: string, stopping?: AbortSignal, maxWaitMs = Infinity): Promise<() => void> {
    const answered = isSearch(path) ? await this.search.take(stopping, maxWaitMs) : await this.window.take(stopping, maxWaitMs);
    if (this.daily && this.daily.remaining - this.underWay.count <= 0) {
      answered();
      const { limit } = this.daily;
      throw transientError(
        `HubSpot's daily API limit is nearly reached: ${limit.toLocaleString('en-US')} requests a day for the account's private apps, `
        + `${this.daily.remaining.toLocaleString('en-US')} left and ${this.underWay.count} under way, so the run stops before it runs out; what was written is committed; ${DAILY_RESET}`,
        { code: DAILY_LIMIT },
      );
    }
    const ended = this.underWay.start();
    return () => {
      ended();
      answered();
    };
  }

  /** Reads the budgets off an answer (any status); call before the request's answer function. */
  observe(path: string, headers: Headers): void {
    const number = (name: string) => {
      const text = headers.get(`${HEADER}${name}`);
      return text === null || text.trim() === '' ? undefined : Number(text);
    };
    const [dailyLimit, dailyRemaining] = [number('daily'), number('daily-remaining')];
    if (dailyLimit !== undefined && dailyRemaining !== undefined && dailyLimit > 0 && dailyRemaining >= 0) {
      // Answers come back out of order: the lowest count seen is the latest that is sure, unless
      // the count jumps by more than requests in flight explain (the day rolled over).
      const reset = !this.daily || dailyRemaining > this.daily.remaining + OUT_OF_ORDER_SLACK;
      const remaining = reset ? dailyRemaining : Math.min(this.daily!.remaining, dailyRemaining);
      this.daily = { limit: dailyLimit, remaining };
    }
    if (isSearch(path)) return;
    const [max, remaining, intervalMs] = [number('max'), number('remaining'), number('interval-milliseconds')];
    if (max !== undefined && remaining !== undefined && intervalMs !== undefined) this.window.observe({ max, remaining, intervalMs, perSecond: number('secondly') });
  }

  /** HubSpot answered 429: nothing goes out before `time`. */
  pauseUntil(time: number, cause?: ConnectorError): void {
    this.window.pauseUntil(time, cause);
    this.search.pauseUntil(time, cause);
  }

  /** The window's budget for this client now (tests, logs). */
  share(): { requests: number; intervalMs: number } {
    return { requests: this.window.share(), intervalMs: this.window.intervalMs };
  }
}

function isSearch(path: string): boolean {
  return /\/search(\?|$)/.test(path);
}
