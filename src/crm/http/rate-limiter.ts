// Paces requests to a CRM's rolling-window budget (HubSpot: N per 10 s) so we run at the limit
// without tripping it. A request waits until the oldest request in the window has aged out.
export class RollingWindowLimiter {
  private readonly sentAt: number[] = [];
  private queue: Promise<void> = Promise.resolve();
  private pausedUntil = 0;

  constructor(
    private readonly maxRequests: number,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when one more request fits in the window; callers are served in arrival order. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.waitForRoom());
    this.queue = turn;
    return turn;
  }

  /** The CRM said it is over its limit (429): send nothing until then. */
  pauseUntil(time: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, time);
  }

  private async waitForRoom(): Promise<void> {
    for (;;) {
      const now = this.now();
      while (this.sentAt.length > 0 && this.sentAt[0] <= now - this.intervalMs) this.sentAt.shift();
      const waitForPause = this.pausedUntil - now;
      const waitForWindow = this.sentAt.length < this.maxRequests ? 0 : this.sentAt[0] + this.intervalMs - now;
      const wait = Math.max(waitForPause, waitForWindow);
      if (wait <= 0) {
        this.sentAt.push(now);
        return;
      }
      await sleep(wait);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
