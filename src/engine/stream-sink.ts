// Collects one stream's rows into batches at the API's maximum and hands them to the CRM writer,
// several in flight at once.
import type { ObjectWriter, RowOutcome } from '../crm/destination.js';
import type { RowSink, SinkItem } from './row-sink.js';
import { Slots } from './slots.js';

export interface SinkCallbacks {
  /** The batch's request is done only once this settles: the store commits before the rows settle. */
  settled(items: SinkItem[], outcomes: RowOutcome[]): Promise<void>;
  failed(items: SinkItem[], error: unknown): Promise<void>;
}

export class StreamSink implements RowSink {
  private pending: SinkItem[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly slots: Slots;
  private lastAddedAt = Date.now();

  constructor(
    private readonly writer: ObjectWriter,
    private readonly callbacks: SinkCallbacks,
  ) {
    this.slots = new Slots(writer.maxConcurrentWrites);
  }

  add(item: SinkItem): Promise<void> | undefined {
    this.pending.push(item);
    this.lastAddedAt = Date.now();
    return this.pending.length >= this.writer.maxBatchRows ? this.dispatch() : undefined;
  }

  flushIfIdle(idleMs: number): Promise<void> | undefined {
    return this.pending.length > 0 && Date.now() - this.lastAddedAt >= idleMs ? this.dispatch() : undefined;
  }

  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.dispatch();
    await this.settleInFlight();
  }

  async settleInFlight(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async dispatch(): Promise<void> {
    const batch = this.pending.splice(0, this.writer.maxBatchRows);
    if (batch.length === 0) return;
    for (const item of batch) item.locked = true;
    await this.slots.acquire();
    const request = this.writer
      .write(batch.map((item) => item.write))
      .then(
        (outcomes) => this.callbacks.settled(batch, outcomes),
        (error: unknown) => this.callbacks.failed(batch, error),
      )
      .finally(() => {
        this.slots.release();
        this.inFlight.delete(request);
      });
    this.inFlight.add(request);
  }
}
