// Paces requests to a CRM's rolling-window budget (HubSpot: N per 10 s) so we run at the limit
// without tripping it. The CRM counts a request when it arrives, which we cannot see: here a
// request holds its place in the window from when it is sent, and when its answer comes back it
// is taken to have arrived then, the latest it can have. A window so never holds more than the
// budget whatever the network's delays, for the price of one round trip per window.
// A wait in line ends at once when the run stops, and a pause the CRM asked for that is longer
// than the caller may wait is refused at once rather than waited out.
import { ConnectorError, INTERRUPTED, transientError } from '../../errors.js';
import { RATE_LIMITED } from './retry.js';
import { sleep } from './sleep.js';

interface Slot {
  /** When the request is taken to have arrived: Infinity until its answer is back. */
  arrivedAt: number;
}

export class RollingWindowLimiter {
  private slots: Slot[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private pausedUntil = 0;
  /** Why the CRM asked for the pause, for a caller that cannot wait that long. */
  private pauseCause?: ConnectorError;
  private wakeOnAnswer?: () => void;

  constructor(
    private readonly maxRequests: number,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Resolves, callers served in arrival order, when one more request fits in the window; with the
   * function to call once its answer (or its failure) is back. Rejects at once when `stopping` is
   * aborted (INTERRUPTED), and when the CRM's pause would hold it longer than `maxWaitMs`
   * (RATE_LIMITED, with the wait left: the caller's retry rule decides what to say).
   */
  take(stopping?: AbortSignal, maxWaitMs = Infinity): Promise<() => void> {
    const turn = this.queue.then(() => this.waitForRoom(stopping, maxWaitMs));
    // One caller's refusal must not refuse the ones behind it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** The CRM said it is over its limit (429): send nothing until then. */
  pauseUntil(time: number, cause?: ConnectorError): void {
    if (time <= this.pausedUntil) return;
    this.pausedUntil = time;
    this.pauseCause = cause;
  }

  private async waitForRoom(stopping: AbortSignal | undefined, maxWaitMs: number): Promise<() => void> {
    for (;;) {
      if (stopping?.aborted) throw transientError('not sent: the run is stopping', { code: INTERRUPTED });
      const now = this.now();
      this.slots = this.slots.filter((slot) => slot.arrivedAt > now - this.intervalMs);
      const oldest = this.slots.length < this.maxRequests ? -Infinity : Math.min(...this.slots.map((slot) => slot.arrivedAt));
      const paused = this.pausedUntil - now;
      const wait = Math.max(paused, oldest + this.intervalMs - now);
      if (wait <= 0) return this.admit();
      if (paused > maxWaitMs) throw this.pauseTooLong(paused);
      // With every place held by a request still in flight, the next answer frees the first one.
      if (Number.isFinite(wait)) await sleep(wait, stopping);
      else await this.nextAnswer(stopping);
    }
  }

  private pauseTooLong(waitMs: number): ConnectorError {
    const cause = this.pauseCause;
    return transientError(cause?.message ?? 'the CRM asked to pause', { code: RATE_LIMITED, retryAfterMs: waitMs, retryAfterHeader: cause?.retryAfterHeader, cause });
  }

  private nextAnswer(stopping: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        stopping?.removeEventListener('abort', done);
        resolve();
      };
      this.wakeOnAnswer = done;
      stopping?.addEventListener('abort', done, { once: true });
    });
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
