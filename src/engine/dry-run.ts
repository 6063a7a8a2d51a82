// Dry run: rows go through mapping, conversion and change detection as usual, then stop here.
// Each is settled with the outcome it would have had, judged from the store, and a sample of the
// per-field changes is kept for the report. Nothing reaches the CRM or the store.
import type { StreamPlan } from '../config/stream-plan.js';
import type { FinalStatus } from './counts.js';
import type { RowSink, SinkItem } from './row-sink.js';

export interface PlannedChange {
  key: string;
  action: 'create' | 'update';
  fields: Record<string, unknown>;
}

export const DRY_RUN_SAMPLE_SIZE = 10;

export class DryRunPlanner implements RowSink {
  readonly samples: PlannedChange[] = [];

  constructor(
    private readonly plan: StreamPlan,
    private readonly settle: (item: SinkItem, status: FinalStatus) => void,
  ) {}

  add(item: SinkItem): undefined {
    // Without a stored or read-back record, update mode cannot know whether the CRM has one.
    const known = item.known === true;
    const action = this.plan.operation === 'insert' || (!known && this.plan.operation !== 'update') ? 'create' : 'update';
    if (this.samples.length < DRY_RUN_SAMPLE_SIZE) {
      this.samples.push({ key: item.write.key, action, fields: item.write.values });
    }
    this.settle(item, action === 'create' ? 'created' : 'updated');
    return undefined;
  }

  flushIfIdle(): undefined {
    return undefined;
  }
  async drain(): Promise<void> {}
  async settleInFlight(): Promise<void> {}
}
