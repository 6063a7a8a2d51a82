// Paces requests to a CRM's rolling-window budget (HubSpot: N per 10 s) so we run at the limit
// without tripping it. The CRM counts a request when it arrives, which we cannot see: here a
// request holds its place in the window from when it is sent, and when its answer comes back it
// is taken to have arrived then, the latest it can have. A window so never holds more than the
// budget whatever the network's delays, for the price of one round trip per window.
interface Slot {
  /** When the request is taken to have arrived: Infinity until its answer is back. */
  arrivedAt: number;
}

export class RollingWindowLimiter {
  private slots: Slot[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private pausedUntil = 0;
  private wakeOnAnswer?: () => void;

  constructor(
    private readonly maxRequests: number,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

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
      this.slots = this.slots.filter((slot) => slot.arrivedAt > now - this.intervalMs);
      const oldest = this.slots.length < this.maxRequests ? -Infinity : Math.min(...this.slots.map((slot) => slot.arrivedAt));
      const wait = Math.max(this.pausedUntil - now, oldest + this.intervalMs - now);
      if (wait <= 0) return this.admit();
      // With every place held by a request still in flight, the next answer frees the first one.
      if (Number.isFinite(wait)) await sleep(wait);
      else await new Promise<void>((resolve) => (this.wakeOnAnswer = resolve));
    }
  }

  private admit(): () => void {
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
