// HubSpot's rolling ten-second window per token (and an optional per-second and daily budget),
// with the x-hubspot-ratelimit-* headers it sends on CRM answers.
export interface RateLimitOptions {
  max: number;
  intervalMs: number;
  secondly?: number;
  daily?: number;
}

export type Verdict = { ok: true; headers: Record<string, string> } | { ok: false; policyName: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY'; headers: Record<string, string> };

export class RateLimiter {
  private readonly windows = new Map<string, number[]>();
  private readonly daily = new Map<string, number>();

  constructor(private readonly options: RateLimitOptions) {}

  check(token: string, now = Date.now()): Verdict {
    const sent = (this.windows.get(token) ?? []).filter((t) => t > now - this.options.intervalMs);
    this.windows.set(token, sent);
    const lastSecond = sent.filter((t) => t > now - 1000).length;
    const usedToday = this.daily.get(token) ?? 0;
    const over = this.options.daily !== undefined && usedToday >= this.options.daily ? 'DAILY'
      : sent.length >= this.options.max ? 'TEN_SECONDLY_ROLLING'
        : this.options.secondly !== undefined && lastSecond >= this.options.secondly ? 'SECONDLY' : undefined;
    if (!over) {
      sent.push(now);
      this.daily.set(token, usedToday + 1);
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
    if (this.options.daily !== undefined) {
      headers['x-hubspot-ratelimit-daily'] = String(this.options.daily);
      headers['x-hubspot-ratelimit-daily-remaining'] = String(Math.max(0, this.options.daily - (this.daily.get(token) ?? 0)));
    }
    return over ? { ok: false, policyName: over, headers } : { ok: true, headers };
  }
}
