// Decides, per row, what must be sent: nothing when every field matches what was last written
// successfully, only the changed fields in update and upsert mode, the whole row in insert mode.
// After the CRM confirms a write, records the new hashes; a rejected row keeps its old ones and so
// is sent again next run.
import type { StreamPlan } from '../config/stream-plan.js';
import type { PendingWrite, RowOutcome, Values } from '../crm/destination.js';
import type { StateStore, StoredRecord, WrittenRecord } from '../store/state-store.js';
import { hashFields } from './hashing.js';

export interface ChangeMemo {
  hashes: Record<string, string>;
  previous?: StoredRecord;
}

export type Decision =
  | { duplicate: true }
  | { send: false; memo: ChangeMemo }
  | { send: true; values: Values; memo: ChangeMemo; changedFields: string[] };

export class ChangeTracker {
  constructor(
    private readonly store: StateStore,
    /** Identifies the CRM object across runs (portal or org + object). */
    readonly objectId: string,
    private readonly plan: StreamPlan,
    private readonly fullResync: boolean,
  ) {}

  /**
   * Classifies up to LOOKUP_CHUNK rows with one lookup and marks their keys as seen this run. A key
   * this run has seen before is a duplicate: which of its rows is the truth is unknowable.
   */
  classify(rows: PendingWrite[]): Decision[] {
    const keys = rows.map((row) => row.key);
    const stored = this.store.lookup(this.objectId, keys);
    const seenNow = new Set<string>();
    const decisions = rows.map((row): Decision => {
      const previous = stored.get(row.key);
      if (seenNow.has(row.key) || previous?.lastSeen === this.store.runId) return { duplicate: true };
      seenNow.add(row.key);
      return this.decide(row, previous?.written ? previous : undefined);
    });
    this.store.markSeen(this.objectId, [...seenNow]);
    return decisions;
  }

  /** Saves the rows the CRM confirmed; rows it did not confirm keep their previous state. */
  confirm(rows: { write: PendingWrite; memo: ChangeMemo }[], outcomes: RowOutcome[]): void {
    const written: WrittenRecord[] = [];
    const removed: string[] = [];
    rows.forEach(({ write, memo }, i) => {
      const outcome = outcomes[i];
      if (outcome.status === 'created' || outcome.status === 'updated' || outcome.status === 'unchanged') {
        const crmId = outcome.id ?? memo.previous?.crmId ?? null;
        written.push({ key: write.key, crmId, hashes: { ...memo.previous?.hashes, ...memo.hashes } });
      } else if (outcome.status === 'removed') {
        removed.push(write.key);
      }
    });
    this.store.saveWrites(this.objectId, written);
    if (removed.length > 0) this.store.forget(this.objectId, removed);
  }

  private decide(row: PendingWrite, previous: StoredRecord | undefined): Decision {
    const hashes = hashFields(row.values);
    const memo = { hashes, previous };
    const all = Object.keys(row.values);
    if (!previous || this.fullResync) return { send: true, values: row.values, memo, changedFields: all };
    const changedFields = all.filter((name) => previous.hashes[name] !== hashes[name]);
    if (changedFields.length === 0) return { send: false, memo };
    if (this.plan.operation === 'insert') return { send: true, values: row.values, memo, changedFields };
    return { send: true, values: changedValues(row.values, changedFields, this.plan), memo, changedFields };
  }
}

/** An update's values: the changed fields, and the key field the CRM module matches by. */
export function changedValues(values: Values, changedFields: string[], plan: StreamPlan): Values {
  const keyField = plan.match.destination;
  const changed: Values = {};
  for (const name of changedFields) changed[name] = values[name];
  if (keyField && keyField in values) changed[keyField] = values[keyField];
  return changed;
}
