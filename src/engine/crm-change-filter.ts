// Change detection against the CRM itself (change_detection: crm), for runs with no store that
// survives them (an ephemeral container): each batch of rows is read back from the CRM first,
// rows it already holds settle as unchanged, and the others go on with only the fields that
// differ. It costs one read per batch instead of a local lookup.
import type { ObjectWriter } from '../crm/destination.js';
import type { StreamPlan } from '../config/stream-plan.js';
import { BufferedFilter } from './buffered-filter.js';
import { changedValues } from './change-tracker.js';
import type { RowSink, SinkItem } from './row-sink.js';

export type ComparingWriter = ObjectWriter & Required<Pick<ObjectWriter, 'compareWithCrm'>>;

export function canCompareWithCrm(writer: ObjectWriter): writer is ComparingWriter {
  return typeof writer.compareWithCrm === 'function';
}

export class CrmChangeFilter extends BufferedFilter {
  constructor(
    private readonly writer: ComparingWriter,
    private readonly plan: StreamPlan,
    next: RowSink,
    /** Settles an unchanged row once the store recorded it as seen. */
    private readonly unchanged: (item: SinkItem) => Promise<void>,
  ) {
    super(next, writer.maxBatchRows);
  }

  protected async process(batch: SinkItem[]): Promise<void> {
    for (const item of batch) item.locked = true;
    const comparisons = await this.writer.compareWithCrm(batch.map((item) => item.write));
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i];
      const comparison = comparisons[i];
      item.known = comparison.found;
      if (comparison.found && comparison.changed.length === 0) {
        await this.unchanged(item);
        continue;
      }
      if (comparison.found && this.plan.operation !== 'insert') {
        item.write = { key: item.write.key, values: changedValues(item.write.values, comparison.changed, this.plan) };
      }
      const waiting = this.next.add(item);
      if (waiting) await waiting;
    }
  }
}
