// Sits in front of a sink: looks rows up in the state store a chunk at a time, settles unchanged
// rows at once (no API call) and forwards the others with only the fields that changed. Diffing
// before batching keeps write calls at the minimum: 37 changed rows among 10,000 make one batch.
import { LOOKUP_CHUNK } from '../store/state-store.js';
import type { ChangeTracker } from './change-tracker.js';
import type { RowSink, SinkItem } from './row-sink.js';

export class ChangeFilter implements RowSink {
  private pending: SinkItem[] = [];
  private lastAddedAt = Date.now();

  constructor(
    private readonly tracker: ChangeTracker,
    private readonly next: RowSink,
    private readonly unchanged: (item: SinkItem) => void,
    private readonly duplicate: (item: SinkItem) => void,
  ) {}

  add(item: SinkItem): Promise<void> | undefined {
    this.pending.push(item);
    this.lastAddedAt = Date.now();
    return this.pending.length >= LOOKUP_CHUNK ? this.flush() : undefined;
  }

  flushIfIdle(idleMs: number): void {
    if (this.pending.length > 0 && Date.now() - this.lastAddedAt >= idleMs) {
      void this.flush().then(() => this.next.flushIfIdle(0));
    } else {
      this.next.flushIfIdle(idleMs);
    }
  }

  async drain(): Promise<void> {
    await this.flush();
    await this.next.drain();
  }

  settleInFlight(): Promise<void> {
    return this.next.settleInFlight();
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    const decisions = this.tracker.classify(batch.map((item) => item.write));
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i];
      const decision = decisions[i];
      if ('duplicate' in decision) {
        this.duplicate(item);
        continue;
      }
      item.memo = decision.memo;
      if (!decision.send) {
        this.unchanged(item);
        continue;
      }
      item.write = { key: item.write.key, values: decision.values };
      const waiting = this.next.add(item);
      if (waiting) await waiting;
    }
  }
}
