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

/** Time as the pacers see it: the real one, or a test's. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when `stopping` is aborted. */
  sleep(ms: number, stopping?: AbortSignal): Promise<void>;
}

export const REAL_CLOCK: Clock = { now: () => Date.now(), sleep: (ms, stopping) => sleep(ms, stopping) };

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

  /** With every place held by a request still in flight, the next answer frees the first one (or the run stops). */
  answered(stopping?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        stopping?.removeEventListener('abort', done);
        resolve();
      };
      this.wakeOnAnswer = done;
      stopping?.addEventListener('abort', done, { once: true });
    });
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

/** A pause the CRM asked for (429), with why: a caller that may not wait that long is refused with it. */
export class CrmPause {
  private until = 0;
  private cause?: ConnectorError;

  set(time: number, cause?: ConnectorError): void {
    if (time <= this.until) return;
    this.until = time;
    this.cause = cause;
  }

  /** Milliseconds left of the pause; throws RATE_LIMITED (with the wait left) when more than `maxWaitMs`. */
  left(now: number, maxWaitMs: number): number {
    const waitMs = this.until - now;
    if (waitMs > maxWaitMs) {
      throw transientError(this.cause?.message ?? 'the CRM asked to pause', { code: RATE_LIMITED, retryAfterMs: waitMs, retryAfterHeader: this.cause?.retryAfterHeader, cause: this.cause });
    }
    return waitMs;
  }
}

/** Throws INTERRUPTED when the run is stopping: nothing more is sent. */
export function stopIfStopping(stopping: AbortSignal | undefined): void {
  if (stopping?.aborted) throw transientError('not sent: the run is stopping', { code: INTERRUPTED });
}

/** Callers served in arrival order; one caller's refusal does not refuse the ones behind it. */
export class Line {
  private queue: Promise<unknown> = Promise.resolve();

  join<T>(wait: () => Promise<T>): Promise<T> {
    const turn = this.queue.then(wait);
    this.queue = turn.catch(() => undefined);
    return turn;
  }
}

export class RollingWindowLimiter {
  private readonly slots: WindowSlots;
  private readonly line = new Line();
  private readonly pause = new CrmPause();

  constructor(
    private readonly maxRequests: number,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.slots = new WindowSlots(now);
  }

  /**
   * Resolves, callers served in arrival order, when one more request fits in the window; with the
   * function to call once its answer (or its failure) is back. Rejects at once when `stopping` is
   * aborted (INTERRUPTED), and when the CRM's pause would hold it longer than `maxWaitMs`
   * (RATE_LIMITED, with the wait left: the caller's retry rule decides what to say).
   */
  take(stopping?: AbortSignal, maxWaitMs = Infinity): Promise<() => void> {
    return this.line.join(() => this.waitForRoom(stopping, maxWaitMs));
  }

  /** The CRM said it is over its limit (429): send nothing until then. */
  pauseUntil(time: number, cause?: ConnectorError): void {
    this.pause.set(time, cause);
  }

  private async waitForRoom(stopping: AbortSignal | undefined, maxWaitMs: number): Promise<() => void> {
    for (;;) {
      stopIfStopping(stopping);
      const now = this.now();
      const held = this.slots.count(this.intervalMs, now);
      const freed = held < this.maxRequests ? -Infinity : this.slots.freesAt(held - this.maxRequests, this.intervalMs);
      const wait = Math.max(this.pause.left(now, maxWaitMs), freed - now);
      if (wait <= 0) return this.slots.hold();
      if (Number.isFinite(wait)) await sleep(wait, stopping);
      else await this.slots.answered(stopping);
    }
  }
}
