// Paces requests to a rolling-window budget that the CRM reports on its answers (HubSpot: Max
// requests per Interval, Remaining in the window now) and that other clients of the same app
// spend too. They cannot be asked, only seen: what the window holds that is not ours is theirs.
//
// - The budget is what the last answer said (before the first: the configured cap, or `initial`).
// - Alone in the window we may use all of it but a small reserve (the requests any client may
//   have on the wire unseen). With others in it we take half of what is free on top of what we
//   already use: two runs that both do so fill the window together, and neither overshoots when
//   both see the same free room at once (each taking all of it would).
// - Requests are spread evenly over the interval (one every interval ÷ share), so two runs react to
//   each other's answers between sends instead of bursting into the same free room; after a stall
//   at most a couple of requests are caught up.
// - As in RollingWindowLimiter, a request holds its place in our window from when it is sent to its
//   answer (taken as its arrival, the latest it can be): our count never falls short of the CRM's.
// - A per-second budget beside the window (less one) caps the share, and no second of ours holds
//   more, catching up included.
import { sleep, WindowSlots } from './rate-limiter.js';

export interface Budget {
  max: number;
  intervalMs: number;
}

export interface WindowReport extends Budget {
  /** What the window has left for the app as a whole, this request included. */
  remaining: number;
  /** A per-second budget beside the window (HubSpot's OAuth apps: X-HubSpot-RateLimit-Secondly). */
  perSecond?: number;
}

/** Requests kept back from the budget: at least this many, or this share of it. */
const MIN_RESERVE = 2;
const RESERVE_SHARE = 0.01;
/** Requests of others in the window from which we share it (fewer: noise of our own in flight). */
const OTHERS_NOTICED = 3;
/** Sends that may be caught up after a stall. */
const CATCH_UP = 2;
const SECOND_MS = 1000;

export class SharedWindowPacer {
  private budget: Budget;
  private others = 0;
  private readonly slots: WindowSlots;
  /** The same requests, for the per-second budget. */
  private readonly lastSecond: WindowSlots;
  private perSecond?: number;
  private nextSendAt = 0;
  private pausedUntil = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    initial: Budget,
    /** A budget of our own that the reported one never exceeds (per its own interval). */
    private readonly cap?: Budget,
    private readonly now: () => number = Date.now,
  ) {
    this.budget = cap ?? initial;
    this.slots = new WindowSlots(now);
    this.lastSecond = new WindowSlots(now);
  }

  /** Resolves, callers served in arrival order, when one more request may go; with the function to call on its answer. */
  take(): Promise<() => void> {
    const turn = this.queue.then(() => this.waitForTurn());
    this.queue = turn;
    return turn;
  }

  /** What an answer said about the window (call before the request's answer function). */
  observe(report: WindowReport): void {
    if (!(report.max > 0 && report.intervalMs > 0 && report.remaining >= 0)) return;
    this.budget = { max: report.max, intervalMs: report.intervalMs };
    this.perSecond = report.perSecond !== undefined && report.perSecond > 0 ? report.perSecond : undefined;
    this.others = Math.max(0, report.max - report.remaining - this.ours(this.now()));
  }

  /** The CRM said it is over its limit (429): send nothing until then. */
  pauseUntil(time: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, time);
  }

  /** Requests this client may have in one interval of the reported budget now. */
  share(now = this.now()): number {
    const { max, intervalMs } = this.budget;
    const usable = max - Math.max(MIN_RESERVE, Math.ceil(max * RESERVE_SHARE)) - this.others;
    const mine = this.others >= OTHERS_NOTICED ? (this.ours(now) + usable) / 2 : usable;
    const perSecond = this.perSecondAllowed();
    const secondly = perSecond === undefined ? mine : Math.min(mine, (perSecond * intervalMs) / SECOND_MS);
    const capped = this.cap ? Math.min(secondly, (this.cap.max * intervalMs) / this.cap.intervalMs) : secondly;
    return Math.max(1, Math.floor(capped));
  }

  /** The interval of the budget in force. */
  get intervalMs(): number {
    return this.budget.intervalMs;
  }

  /** Requests of other clients the last answer showed in the window. */
  get othersInWindow(): number {
    return this.others;
  }

  private ours(now: number): number {
    return this.slots.count(this.budget.intervalMs, now);
  }

  private async waitForTurn(): Promise<() => void> {
    for (;;) {
      const now = this.now();
      const wait = this.waitMs(now);
      if (wait <= 0) return this.admit(now);
      if (Number.isFinite(wait)) await sleep(wait);
      else await this.slots.answered();
    }
  }

  /** How long the next request must wait: for a pause, its even spacing, and room in our window. */
  private waitMs(now: number): number {
    const share = this.share(now);
    const held = this.ours(now);
    let wait = Math.max(this.pausedUntil - now, this.nextSendAt - now);
    if (held >= share) wait = Math.max(wait, this.slots.freesAt(held - share, this.budget.intervalMs) - now);
    const perSecond = this.perSecondAllowed();
    const heldThisSecond = perSecond === undefined ? 0 : this.lastSecond.count(SECOND_MS, now);
    if (perSecond !== undefined && heldThisSecond >= perSecond) wait = Math.max(wait, this.lastSecond.freesAt(heldThisSecond - perSecond, SECOND_MS) - now);
    return wait;
  }

  /** The per-second budget less one, the reserve for what is on the wire unseen. */
  private perSecondAllowed(): number | undefined {
    return this.perSecond === undefined ? undefined : Math.max(1, this.perSecond - 1);
  }

  private admit(now: number): () => void {
    const gap = this.budget.intervalMs / this.share(now);
    this.nextSendAt = Math.max(this.nextSendAt, now - CATCH_UP * gap) + gap;
    const inWindow = this.slots.hold();
    const inSecond = this.lastSecond.hold();
    return () => {
      inWindow();
      inSecond();
    };
  }
}
