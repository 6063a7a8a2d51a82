// Change detection against the CRM itself (change_detection: crm), for runs with no store that
// survives them (an ephemeral container): each batch of rows is read back from the CRM first,
// rows it already holds settle as unchanged, and the others go on with only the fields that
// differ. It costs one read per batch instead of a local lookup.
import type { ObjectWriter } from '../crm/destination.js';
import type { StreamPlan } from '../config/stream-plan.js';
import type { RowSink, SinkItem } from './row-sink.js';

export type ComparingWriter = ObjectWriter & Required<Pick<ObjectWriter, 'compareWithCrm'>>;

export function canCompareWithCrm(writer: ObjectWriter): writer is ComparingWriter {
  return typeof writer.compareWithCrm === 'function';
}

export class CrmChangeFilter implements RowSink {
  private pending: SinkItem[] = [];
  private lastAddedAt = Date.now();

  constructor(
    private readonly writer: ComparingWriter,
    private readonly plan: StreamPlan,
    private readonly next: RowSink,
    private readonly unchanged: (item: SinkItem) => void,
  ) {}

  async add(item: SinkItem): Promise<void> {
    this.pending.push(item);
    this.lastAddedAt = Date.now();
    if (this.pending.length >= this.writer.maxBatchRows) await this.flush();
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
    const comparisons = await this.writer.compareWithCrm(batch.map((item) => item.write));
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i];
      const comparison = comparisons[i];
      item.known = comparison.found;
      if (comparison.found && comparison.changed.length === 0) {
        this.unchanged(item);
        continue;
      }
      if (comparison.found && this.plan.operation !== 'insert') this.keepOnly(item, comparison.changed);
      await this.next.add(item);
    }
  }

  /** An update carries the changed fields and the key field the CRM module matches by. */
  private keepOnly(item: SinkItem, changed: string[]): void {
    const keyField = this.plan.match.destination;
    const values: Record<string, unknown> = {};
    for (const name of changed) values[name] = item.write.values[name];
    if (keyField && keyField in item.write.values) values[keyField] = item.write.values[keyField];
    item.write = { key: item.write.key, values };
    item.changedFields = changed;
  }
}
