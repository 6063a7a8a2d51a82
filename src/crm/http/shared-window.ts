// Paces requests to a rolling-window budget that the CRM reports on its answers (HubSpot: Max
// requests per Interval, Remaining in the window now) and that other clients of the same app
// spend too. They cannot be asked, only seen: what the window holds that is not ours is theirs.
//
// - The budget is what the last answer said (before the first: the configured cap, or `initial`).
// - Alone in the window we may use all of it but a small reserve (the requests any client may
//   have on the wire unseen). Beside others still sending we take half of what is free on top of
//   what we already use: two runs that both do so fill the window together, and neither overshoots
//   when both see the same free room at once (each taking all of it would). Beside others that
//   stopped, their room is ours as their requests age out of the window.
// - Below half the window beside others, we also claim half of what HubSpot last said was free
//   (Remaining, the reserve included): a run that starts beside one that fills the window is not
//   starved (a request or so into the reserve at a time), the other sees it grow and gives way,
//   until they hold half each.
// - Requests are spread evenly over the interval (one every interval ÷ share), so two runs react to
//   each other's answers between sends instead of bursting into the same free room, and together
//   they never go faster than the budget allows (per second too); after a stall at most a couple of
//   requests are caught up.
// - As in RollingWindowLimiter, a request holds its place in our window from when it is sent to its
//   answer (taken as its arrival, the latest it can be): our count never falls short of the CRM's.
// - A per-second budget beside the window (less one) caps the share, and no second of ours holds
//   more, catching up included.
import type { ConnectorError } from '../../errors.js';
import { CrmPause, Line, REAL_CLOCK, stopIfStopping, WindowSlots, type Clock } from './rate-limiter.js';

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
/** Others whose count an answer saw grow this recently are still sending. */
const STILL_SENDING_MS = 1000;

/**
 * Other clients' requests in the window, dated by the answer that first showed them: each leaves it
 * one interval later at the latest. So, between answers (while we wait and send nothing), their
 * room comes back to us as their requests age out, never sooner.
 */
class OthersInWindow {
  private arrivals: { at: number; count: number }[] = [];
  /** When an answer last showed more of theirs than before: they are still sending. */
  lastArrivalAt = -Infinity;

  count(now: number, intervalMs: number): number {
    while (this.arrivals.length > 0 && this.arrivals[0].at <= now - intervalMs) this.arrivals.shift();
    return this.arrivals.reduce((sum, arrival) => sum + arrival.count, 0);
  }

  /** An answer at `now` showed `seen` requests of others in the window. */
  saw(seen: number, now: number, intervalMs: number): void {
    const known = this.count(now, intervalMs);
    if (seen > known) {
      this.arrivals.push({ at: now, count: seen - known });
      this.lastArrivalAt = now;
    }
    // Fewer than we dated: the oldest left earlier than we assumed.
    for (let gone = known - seen; gone > 0 && this.arrivals.length > 0;) {
      const oldest = this.arrivals[0];
      const leaving = Math.min(gone, oldest.count);
      oldest.count -= leaving;
      gone -= leaving;
      if (oldest.count === 0) this.arrivals.shift();
    }
  }

  /** When the earliest of them leaves the window (Infinity: none is in it). */
  nextLeavesAt(intervalMs: number): number {
    return this.arrivals.length > 0 ? this.arrivals[0].at + intervalMs : Infinity;
  }
}

export class SharedWindowPacer {
  private budget: Budget;
  private readonly others = new OthersInWindow();
  private readonly slots: WindowSlots;
  /** The same requests, for the per-second budget. */
  private readonly lastSecond: WindowSlots;
  private perSecond?: number;
  private nextSendAt = 0;
  private readonly pause = new CrmPause();
  private readonly line = new Line();

  constructor(
    initial: Budget,
    /** A budget of our own that the reported one never exceeds (per its own interval). */
    private readonly cap?: Budget,
    private readonly clock: Clock = REAL_CLOCK,
  ) {
    this.budget = cap ?? initial;
    this.slots = new WindowSlots(() => clock.now());
    this.lastSecond = new WindowSlots(() => clock.now());
  }

  private now(): number {
    return this.clock.now();
  }

  /**
   * Resolves, callers served in arrival order, when one more request may go; with the function to
   * call on its answer. Rejects at once when `stopping` is aborted, or when a pause the CRM asked
   * for is longer than `maxWaitMs` (as RollingWindowLimiter.take).
   */
  take(stopping?: AbortSignal, maxWaitMs = Infinity): Promise<() => void> {
    return this.line.join(() => this.waitForTurn(stopping, maxWaitMs));
  }

  /** What an answer said about the window (call before the request's answer function). */
  observe(report: WindowReport): void {
    if (!(report.max > 0 && report.intervalMs > 0 && report.remaining >= 0)) return;
    this.budget = { max: report.max, intervalMs: report.intervalMs };
    this.perSecond = report.perSecond !== undefined && report.perSecond > 0 ? report.perSecond : undefined;
    const now = this.now();
    this.others.saw(Math.max(0, report.max - report.remaining - this.ours(now)), now, report.intervalMs);
  }

  /** The CRM said it is over its limit (429): send nothing until then. */
  pauseUntil(time: number, cause?: ConnectorError): void {
    this.pause.set(time, cause);
  }

  /** Requests this client may have in one interval of the reported budget now. */
  share(now = this.now()): number {
    const budget = this.budgetLessReserve();
    const others = this.othersInWindow(now);
    const usable = budget - others;
    const ours = this.ours(now);
    const free = this.budget.max - ours - others;
    // Beside others still sending, half of what is free on top of ours (both taking all of it would
    // overshoot); beside others only leaving, all they leave.
    const sending = others >= OTHERS_NOTICED && now - this.others.lastArrivalAt < STILL_SENDING_MS;
    const mine = sending ? Math.max((ours + usable) / 2, Math.min(budget / 2, ours + free / 2)) : usable;
    return Math.max(1, Math.floor(Math.min(mine, this.fastest())));
  }

  private budgetLessReserve(): number {
    const { max } = this.budget;
    return max - Math.max(MIN_RESERVE, Math.ceil(max * RESERVE_SHARE));
  }

  /** The most requests per interval this client could send alone: the budget, the per-second budget, the cap. */
  private fastest(): number {
    const { intervalMs } = this.budget;
    const perSecond = this.perSecondAllowed();
    const secondly = perSecond === undefined ? Infinity : (perSecond * intervalMs) / SECOND_MS;
    const capped = this.cap ? (this.cap.max * intervalMs) / this.cap.intervalMs : Infinity;
    return Math.max(1, Math.min(this.budgetLessReserve(), secondly, capped));
  }

  /** The interval of the budget in force. */
  get intervalMs(): number {
    return this.budget.intervalMs;
  }

  /** Requests of other clients in the window, as far as answers showed them. */
  othersInWindow(now = this.now()): number {
    return this.others.count(now, this.budget.intervalMs);
  }

  private ours(now: number): number {
    return this.slots.count(this.budget.intervalMs, now);
  }

  private async waitForTurn(stopping: AbortSignal | undefined, maxWaitMs: number): Promise<() => void> {
    for (;;) {
      stopIfStopping(stopping);
      const now = this.now();
      const wait = this.waitMs(now, maxWaitMs);
      if (wait <= 0) return this.admit(now);
      if (Number.isFinite(wait)) await this.clock.sleep(wait, stopping);
      else await this.slots.answered(stopping);
    }
  }

  /** How long the next request must wait: for a pause, its even spacing, and room in our window. */
  private waitMs(now: number, maxWaitMs: number): number {
    const share = this.share(now);
    const held = this.ours(now);
    let wait = Math.max(this.pause.left(now, maxWaitMs), this.nextSendAt - now);
    if (held >= share) {
      // Room comes from one of ours leaving the window, or one of theirs (which raises our share).
      const roomAt = Math.min(this.slots.freesAt(held - share, this.budget.intervalMs), this.others.nextLeavesAt(this.budget.intervalMs));
      wait = Math.max(wait, roomAt - now);
    }
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
