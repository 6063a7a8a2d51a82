// Sits in front of a sink: looks rows up in the state store a chunk at a time, settles unchanged
// rows at once (no API call) and forwards the others, converted, with only the fields that
// changed. Rows arrive as mapped: only those that may have changed are converted (a value that
// cannot convert rejects its row here). Diffing before batching keeps write calls at the
// minimum: 37 changed rows among 10,000 make one batch.
import type { Rejection } from '../crm/destination.js';
import { LOOKUP_CHUNK } from '../store/store.js';
import type { ChangeTracker, Convert } from './change-tracker.js';
import { BufferedFilter } from './buffered-filter.js';
import type { RowSink, SinkItem } from './row-sink.js';

export class ChangeFilter extends BufferedFilter {
  constructor(
    private readonly tracker: ChangeTracker,
    next: RowSink,
    private readonly unchanged: (item: SinkItem) => void,
    private readonly convert: Convert,
    /** A row with a value that cannot convert: rejected, its key still in the segment. */
    private readonly refused: (item: SinkItem, rejection: Rejection) => Promise<void> | undefined,
  ) {
    super(next, LOOKUP_CHUNK);
  }

  protected async process(batch: SinkItem[]): Promise<void> {
    for (const item of batch) item.locked = true;
    const decisions = await this.tracker.classify(batch.map((item) => item.write), this.convert);
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i];
      const decision = decisions[i];
      item.memo = decision.memo;
      item.known = decision.memo.previous !== undefined;
      if (!decision.send && decision.refused) {
        const marking = this.refused(item, decision.refused);
        if (marking) await marking;
        continue;
      }
      if (!decision.send) {
        this.unchanged(item);
        continue;
      }
      item.write = { key: item.write.key, values: decision.values, stored: decision.memo.previous };
      const waiting = this.next.add(item);
      if (waiting) await waiting;
    }
  }
}
