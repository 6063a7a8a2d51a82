// Collects one stream's prepared rows into batches at the API's maximum and hands them to the
// CRM writer, several in flight at once. A key already pending or in flight is not sent twice
// concurrently: two writes of one key could race inside the CRM.
import type { ObjectWriter, PendingWrite, RowOutcome } from '../crm/destination.js';
import type { Values } from '../crm/destination.js';
import { Slots } from './slots.js';

export interface SinkItem {
  seq: number;
  line: number;
  data: Values;
  write: PendingWrite;
}

export interface SinkCallbacks {
  settled(items: SinkItem[], outcomes: RowOutcome[]): void;
  failed(items: SinkItem[], error: unknown): void;
}

export class StreamSink {
  private pending: SinkItem[] = [];
  private readonly keysInFlight = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly slots: Slots;
  private lastAddedAt = Date.now();

  constructor(
    private readonly writer: ObjectWriter,
    private readonly callbacks: SinkCallbacks,
  ) {
    this.slots = new Slots(writer.maxConcurrentWrites);
  }

  /** The line of the unsettled row with this key, if any. */
  lineOfUnsettledKey(key: string): number | undefined {
    return this.keysInFlight.get(key);
  }

  /** Resolves once the row is queued; waits for a free slot when a full batch must go out. */
  async add(item: SinkItem): Promise<void> {
    this.pending.push(item);
    this.keysInFlight.set(item.write.key, item.line);
    this.lastAddedAt = Date.now();
    if (this.pending.length >= this.writer.maxBatchRows) await this.dispatch();
  }

  /** Sends a partial batch that has waited long enough, so a slow source still gets its states. */
  flushIfIdle(idleMs: number): void {
    if (this.pending.length > 0 && Date.now() - this.lastAddedAt >= idleMs) void this.dispatch();
  }

  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.dispatch();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Waits for what is in flight without sending what is still pending (used when stopping). */
  async settleInFlight(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async dispatch(): Promise<void> {
    const batch = this.pending.splice(0, this.writer.maxBatchRows);
    if (batch.length === 0) return;
    await this.slots.acquire();
    const request = this.writer
      .write(batch.map((item) => item.write))
      .then(
        (outcomes) => this.callbacks.settled(batch, outcomes),
        (error: unknown) => this.callbacks.failed(batch, error),
      )
      .finally(() => {
        for (const item of batch) this.keysInFlight.delete(item.write.key);
        this.slots.release();
        this.inFlight.delete(request);
      });
    this.inFlight.add(request);
  }
}
