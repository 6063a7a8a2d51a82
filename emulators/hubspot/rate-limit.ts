// HubSpot's budgets, with the x-hubspot-ratelimit-* headers it sends on CRM answers:
// - a rolling window (N per 10 s) per app: a private app's token, or an OAuth app whatever access
//   token it issued, so every client process of one app spends the same window;
// - an optional per-second budget beside it (OAuth apps: `secondly`);
// - a daily budget for the account's private apps together (OAuth apps have none, and get no daily
//   headers);
// - search: a per-second budget of its own per account, answered without any rate-limit header and
//   not spent from the window (the daily budget still counts it).
export interface RateLimitOptions {
  max: number;
  intervalMs: number;
  secondly?: number;
  daily?: number;
  /** Searches per second for the account (HubSpot: 5). */
  searchPerSecond?: number;
}

/** Who a request's budget belongs to. */
export interface Caller {
  /** The app whose window the request spends. */
  app: string;
  /** A private app: spends the account's daily budget and is told about it. */
  privateApp: boolean;
}

export type PolicyName = 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';
export type Verdict = { ok: true; headers: Record<string, string> } | { ok: false; policyName: PolicyName; headers: Record<string, string> };

const DEFAULT_SEARCH_PER_SECOND = 5;

export class RateLimiter {
  private readonly windows = new Map<string, number[]>();
  private readonly searches: number[] = [];
  private usedToday = 0;

  constructor(private readonly options: RateLimitOptions) {}

  check(caller: Caller, now = Date.now()): Verdict {
    const sent = this.window(caller.app, now);
    const lastSecond = sent.filter((t) => t > now - 1000).length;
    const dailyOver = caller.privateApp && this.options.daily !== undefined && this.usedToday >= this.options.daily;
    const over: PolicyName | undefined = dailyOver ? 'DAILY'
      : sent.length >= this.options.max ? 'TEN_SECONDLY_ROLLING'
        : this.options.secondly !== undefined && lastSecond >= this.options.secondly ? 'SECONDLY' : undefined;
    if (!over) {
      sent.push(now);
      if (caller.privateApp) this.usedToday += 1;
    }
    const headers: Record<string, string> = {
      'x-hubspot-ratelimit-interval-milliseconds': String(this.options.intervalMs),
      'x-hubspot-ratelimit-max': String(this.options.max),
      'x-hubspot-ratelimit-remaining': String(Math.max(0, this.options.max - sent.length)),
    };
    if (this.options.secondly !== undefined) {
      headers['x-hubspot-ratelimit-secondly'] = String(this.options.secondly);
      headers['x-hubspot-ratelimit-secondly-remaining'] = String(Math.max(0, this.options.secondly - lastSecond - (over ? 0 : 1)));
    }
    Object.assign(headers, this.dailyHeaders(caller));
    return over ? { ok: false, policyName: over, headers } : { ok: true, headers };
  }

  /** A search: its own per-second budget (and the daily one); HubSpot's answer carries no header. */
  checkSearch(caller: Caller, now = Date.now()): Verdict {
    while (this.searches.length > 0 && this.searches[0] <= now - 1000) this.searches.shift();
    const dailyOver = caller.privateApp && this.options.daily !== undefined && this.usedToday >= this.options.daily;
    const over: PolicyName | undefined = dailyOver ? 'DAILY' : this.searches.length >= (this.options.searchPerSecond ?? DEFAULT_SEARCH_PER_SECOND) ? 'SECONDLY' : undefined;
    if (!over) {
      this.searches.push(now);
      if (caller.privateApp) this.usedToday += 1;
    }
    return over ? { ok: false, policyName: over, headers: {} } : { ok: true, headers: {} };
  }

  private window(app: string, now: number): number[] {
    const sent = (this.windows.get(app) ?? []).filter((t) => t > now - this.options.intervalMs);
    this.windows.set(app, sent);
    return sent;
  }

  private dailyHeaders(caller: Caller): Record<string, string> {
    if (!caller.privateApp || this.options.daily === undefined) return {};
    return {
      'x-hubspot-ratelimit-daily': String(this.options.daily),
      'x-hubspot-ratelimit-daily-remaining': String(Math.max(0, this.options.daily - this.usedToday)),
    };
  }
}
