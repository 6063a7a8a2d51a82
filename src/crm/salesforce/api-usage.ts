// The org's daily API requests are shared by every integration of the org: this run takes usage no
// further than crm.max_api_usage_percent of them. Usage is read from /limits (DailyApiRequests) at
// the start and from every answer's Sforce-Limit-Info (api-usage=used/limit); before each request
// the requests already under way are counted as spent. A request that would pass the share is
// not sent: the run stops with a transient error, what was written committed.
//
// A Bulk API 2.0 job counts as the calls it makes: its creation must leave room for the calls that
// follow (upload, close, a poll, result files), and those calls, which finish work already started,
// are never refused by the share (only by the org's own limit), so a job is never left half done.
import { transientError } from '../../errors.js';
import type { Logger } from '../../protocol/log.js';
import { DAILY_LIMIT } from '../http/retry.js';
import { UnderWay } from '../http/under-way.js';

export const DEFAULT_MAX_API_USAGE_PERCENT = 80;
/** Warn once when the org's usage passes this share, whatever the limit. */
const WARNING_SHARE = 0.9;

/** What a request commits the run to: a number of calls (itself included), or finishing started work. */
export type QuotaClaim = { calls: number } | 'continues_started_work';

export class ApiUsageShare {
  private used?: number;
  private limit?: number;
  private readonly underWay = new UnderWay();
  private warned = false;

  constructor(
    private readonly maxPercent: number,
    private readonly log: Logger,
  ) {}

  /** /limits: {DailyApiRequests: {Max, Remaining}}. */
  observeLimits(body: unknown): void {
    const daily = (body as { DailyApiRequests?: { Max?: unknown; Remaining?: unknown } } | undefined)?.DailyApiRequests;
    const [max, remaining] = [Number(daily?.Max), Number(daily?.Remaining)];
    if (Number.isFinite(max) && Number.isFinite(remaining) && max > 0) this.record(max - remaining, max);
  }

  /** Sforce-Limit-Info: api-usage=used/limit, on every answer. */
  observe(headers: Headers): void {
    const match = /api-usage=(\d+)\/(\d+)/.exec(headers.get('sforce-limit-info') ?? '');
    if (match) this.record(Number(match[1]), Number(match[2]));
  }

  /** Counts a request as under way until the returned function is called; throws when it would pass the share. */
  admit(claim: QuotaClaim = { calls: 1 }): () => void {
    if (claim !== 'continues_started_work') this.refuseBeyondShare(claim.calls);
    return this.underWay.start();
  }

  private refuseBeyondShare(calls: number): void {
    if (this.used === undefined || this.limit === undefined) return;
    const allowed = Math.floor((this.limit * this.maxPercent) / 100);
    if (this.used + this.underWay.count + calls <= allowed) return;
    const int = (n: number) => n.toLocaleString('en-US');
    const share = Math.floor((this.used / this.limit) * 100);
    const underWay = this.underWay.count > 0 ? ` with ${int(this.underWay.count)} more under way` : '';
    throw transientError(
      `the Salesforce org has used ${int(this.used)} of ${int(this.limit)} daily API requests (${share} %)${underWay}: `
      + `the most crm.max_api_usage_percent (${this.maxPercent} %) lets this run take it to, so it stops before passing it; what was written is committed. `
      + `Rerun once the org's rolling 24-hour usage has fallen below it (Setup → Company Information → API Requests), or raise crm.max_api_usage_percent`,
      { code: DAILY_LIMIT },
    );
  }

  private record(used: number, limit: number): void {
    if (limit <= 0) return;
    // Answers come back out of order: within a run usage only grows.
    this.used = this.limit === limit && this.used !== undefined ? Math.max(this.used, used) : used;
    this.limit = limit;
    if (this.warned || used / limit < WARNING_SHARE) return;
    this.warned = true;
    this.log.warn(`the org has used ${used} of its ${limit} daily API requests`);
  }
}
