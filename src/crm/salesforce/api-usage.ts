// The org's daily API requests are shared by every integration of the org: this run takes usage no
// further than crm.max_api_usage_percent of them. Usage is read from /limits (DailyApiRequests) at
// the start and from every answer's Sforce-Limit-Info (api-usage=used/limit); before each request
// the requests already under way are counted as spent. A request that would pass the share is
// not sent: the run stops with a transient error, what was written committed.
//
// A Bulk API 2.0 job counts as the calls it makes: its creation must leave room for the calls that
// follow (upload, close, polls, result files), which stay reserved while the job runs, so jobs side
// by side cannot count on the same room. Those calls finish work already started and are never
// refused by the share (only by the org's own limit): a job is never left half done, and a job
// that polls more than its reservation may take usage a few calls past the share.
import { transientError } from '../../errors.js';
import type { Logger } from '../../protocol/log.js';
import { DAILY_LIMIT } from '../http/retry.js';
import { UnderWay } from '../http/under-way.js';

export const DEFAULT_MAX_API_USAGE_PERCENT = 80;
/** Warn once when the org's usage passes this share, whatever the limit. */
const WARNING_SHARE = 0.9;

/** What a request commits the run to: a number of calls (itself included), a call of a reserved job, or finishing started work. */
export type QuotaClaim = { calls: number } | { reservation: QuotaReservation } | 'continues_started_work';

/** The calls one unit of work (a Bulk API job) will make: checked against the share at its first call, held until it ends. */
export class QuotaReservation {
  left: number;
  ended = false;

  constructor(readonly calls: number) {
    this.left = calls;
  }

  end(): void {
    this.ended = true;
    this.left = 0;
  }
}

export class ApiUsageShare {
  private used?: number;
  private limit?: number;
  private readonly underWay = new UnderWay();
  private readonly reservations = new Set<QuotaReservation>();
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
    if (claim === 'continues_started_work') return this.underWay.start();
    if ('calls' in claim) {
      this.refuseBeyondShare(claim.calls);
      return this.underWay.start();
    }
    const { reservation } = claim;
    if (!this.reservations.has(reservation) && !reservation.ended) {
      this.refuseBeyondShare(reservation.calls);
      this.reservations.add(reservation);
    }
    reservation.left = Math.max(0, reservation.left - 1);
    return this.underWay.start();
  }

  /** Calls reserved by work under way and not made yet. */
  private reserved(): number {
    let left = 0;
    for (const reservation of this.reservations) {
      if (reservation.ended) this.reservations.delete(reservation);
      else left += reservation.left;
    }
    return left;
  }

  private refuseBeyondShare(calls: number): void {
    if (this.used === undefined || this.limit === undefined) return;
    const allowed = Math.floor((this.limit * this.maxPercent) / 100);
    const reserved = this.reserved();
    if (this.used + this.underWay.count + reserved + calls <= allowed) return;
    const int = (n: number) => n.toLocaleString('en-US');
    const share = Math.floor((this.used / this.limit) * 100);
    const ahead = this.underWay.count + reserved;
    const underWay = ahead > 0 ? ` with ${int(ahead)} more under way or reserved` : '';
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
