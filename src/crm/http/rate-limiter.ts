// Paces requests to a CRM's rolling-window budget (HubSpot: N per 10 s) so we run at the limit
// without tripping it. The CRM counts a request when it arrives, which we cannot see: here a
// request holds its place in the window from when it is sent, and when its answer comes back it
// is taken to have arrived then, the latest it can have. A window so never holds more than the
// budget whatever the network's delays, for the price of one round trip per window.
interface Slot {
  /** When the request is taken to have arrived: Infinity until its answer is back. */
  arrivedAt: number;
}

/** Our requests in a rolling window, each held from its send until its answer (then taken as arrived). */
export class WindowSlots {
  private slots: Slot[] = [];
  private wakeOnAnswer?: () => void;

  constructor(private readonly now: () => number) {}

  /** How many requests hold a place in the window ending now. */
  count(intervalMs: number, now = this.now()): number {
    this.slots = this.slots.filter((slot) => slot.arrivedAt > now - intervalMs);
    return this.slots.length;
  }

  /** When the (k+1)-th earliest place frees (Infinity while it is still in flight); call count() first. */
  freesAt(k: number, intervalMs: number): number {
    return this.slots.map((slot) => slot.arrivedAt).sort((a, b) => a - b)[k] + intervalMs;
  }

  /** With every place held by a request still in flight, the next answer frees the first one. */
  answered(): Promise<void> {
    return new Promise<void>((resolve) => (this.wakeOnAnswer = resolve));
  }

  /** Holds a place from now; the returned function marks its answer. */
  hold(): () => void {
    const slot: Slot = { arrivedAt: Infinity };
    this.slots.push(slot);
    return () => {
      if (slot.arrivedAt !== Infinity) return;
      slot.arrivedAt = this.now();
      const wake = this.wakeOnAnswer;
      this.wakeOnAnswer = undefined;
      wake?.();
    };
  }
}

export class RollingWindowLimiter {
  private readonly slots: WindowSlots;
  private queue: Promise<unknown> = Promise.resolve();
  private pausedUntil = 0;

  constructor(
    private readonly maxRequests: number,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.slots = new WindowSlots(now);
  }

  /**
   * Resolves, callers served in arrival order, when one more request fits in the window; with the
   * function to call once its answer (or its failure) is back.
   */
  take(): Promise<() => void> {
    const turn = this.queue.then(() => this.waitForRoom());
    this.queue = turn;
    return turn;
  }

  /** The CRM said it is over its limit (429): send nothing until then. */
  pauseUntil(time: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, time);
  }

  private async waitForRoom(): Promise<() => void> {
    for (;;) {
      const now = this.now();
      const held = this.slots.count(this.intervalMs, now);
      const freed = held < this.maxRequests ? -Infinity : this.slots.freesAt(held - this.maxRequests, this.intervalMs);
      const wait = Math.max(this.pausedUntil - now, freed - now);
      if (wait <= 0) return this.slots.hold();
      if (Number.isFinite(wait)) await sleep(wait);
      else await this.slots.answered();
    }
  }
}

/** Time as the pacers see it: the real one, or a test's. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const REAL_CLOCK: Clock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
