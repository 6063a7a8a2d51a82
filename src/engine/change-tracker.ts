// Decides, per row, what must be sent: nothing when every field matches what was last written
// successfully, only the changed fields in update and upsert mode, the whole row in insert mode.
// After the CRM confirms a write, records the new hashes; a rejected row keeps its old ones and so
// is sent again next run. Rows come as mapped, not converted: the stored hashes also hold one hash
// of the row as read (hashing.ts), and a row that still hashes so is unchanged without conversion.
//
// Every key is recorded as seen this run (rows that left the segment). A key the store already
// holds is marked when it is classified; a new one when its row settles, by the save of its hashes
// or, if it was not written, by a mark then: one store write per new row instead of two. A later
// row of a key seen earlier in the run is diffed like any other, against what the earlier row's
// write left in the store: the engine sends it only once that write has settled.
import type { StreamPlan } from '../config/stream-plan.js';
import packageJson from '../../package.json' with { type: 'json' };
import type { MappedRow, ObjectWriter, PendingWrite, Prepared, Rejection, RowOutcome, Values, WriteNotes } from '../crm/destination.js';
import type { ChangeStore, LookedUp, WrittenRecord } from '../store/store.js';
import { bugError } from '../errors.js';
import { hashesText, hashFields, hashRow, hashValue, ROW_HASH_ENTRY, rowHashPrefix } from './hashing.js';

/** Kept with a row until the CRM answers: only text and the stored record, little for the collector. */
export interface ChangeMemo {
  /** The row's field hashes as JSON: what is stored, and what an unchanged row's stored text equals. */
  hashesJson: string;
  previous?: LookedUp;
  /** False for a new key whose row has not settled: the store does not yet record it as seen. */
  markedSeen: boolean;
}

export type Decision =
  /** refused: a value that cannot convert (the row is rejected, its key stays in the segment). */
  | { send: false; memo: ChangeMemo; refused?: Rejection }
  | { send: true; values: Values; memo: ChangeMemo; changedFields: string[] };

/** Converts a row's values to the CRM's form (ObjectWriter.prepare). */
export type Convert = (row: MappedRow) => Prepared;

export class ChangeTracker {
  /**
   * Inserts the CRM cannot refuse twice (ObjectWriter.journalsCreates): creates of new keys go to
   * the store's journal before they are sent, so a run that dies before recording their answer
   * leaves them for the next run to find in the CRM instead of creating them twice. Not in a dry
   * run (it sends nothing) nor in a scratch store (it dies with the run).
   */
  private readonly journal: boolean;
  private batches = 0;

  constructor(
    private readonly store: ChangeStore,
    /** Identifies the CRM object across runs (portal or org + object). */
    readonly objectId: string,
    private readonly plan: StreamPlan,
    private readonly fullResync: boolean,
    /** Mark new keys when their rows settle; a dry run, which saves nothing, marks them at once. */
    private readonly markNewKeysOnSettle = true,
    journalCreates = false,
    /**
     * What conversion depends on besides a row's values (the object's fields as described, the
     * connector's version). With it, each row's hash as read is stored too, and a row that hashes
     * as it did when last written is unchanged without being converted; without it, every row is.
     */
    private readonly rowContext?: string,
  ) {
    this.journal = journalCreates && markNewKeysOnSettle && store.durable;
  }

  /**
   * Classifies up to LOOKUP_CHUNK rows (their values as mapped, not yet converted) with one lookup
   * and marks their keys as seen this run; a row that may have changed is converted with `convert`.
   * The engine never hands over two rows of a key at once (the later one replaces or waits for the other).
   */
  async classify(rows: MappedRow[], convert: Convert): Promise<Decision[]> {
    const keys = rows.map((row) => row.key);
    // Keys the store holds are marked seen by the lookup itself: one round trip for both.
    const stored = await this.store.lookup(this.objectId, keys, { markFoundSeen: true });
    const seenNow = new Set<string>();
    const markNow: string[] = [];
    const decisions: Decision[] = [];
    for (const row of rows) {
      const previous = stored.get(row.key);
      if (seenNow.has(row.key)) throw bugError(`key "${row.key}" came twice in one change-detection chunk`);
      seenNow.add(row.key);
      const marked = previous !== undefined || !this.markNewKeysOnSettle;
      if (previous === undefined && marked) markNow.push(row.key);
      decisions.push(this.decide(row, previous?.written ? previous : undefined, marked, convert));
    }
    await this.store.markSeen(this.objectId, markNow);
    await this.refreshRowHashes(decisions);
    if (this.journal) await this.journalCreates(rows, decisions);
    return decisions;
  }

  private async journalCreates(rows: PendingWrite[], decisions: Decision[]): Promise<void> {
    const creates = rows.flatMap((row, i) => {
      const decision = decisions[i];
      return 'send' in decision && decision.send && !decision.memo.previous ? [{ key: row.key, hashesJson: decision.memo.hashesJson }] : [];
    });
    this.batches += 1;
    await this.store.journalCreates(this.objectId, `${this.store.runId}.${this.batches}`, creates);
  }

  /** Saves the rows the CRM confirmed; rows it did not confirm keep their previous state. */
  async confirm(rows: { write: PendingWrite; memo: ChangeMemo }[], outcomes: RowOutcome[]): Promise<void> {
    const written: WrittenRecord[] = [];
    const removed: string[] = [];
    const unwritten: { write: PendingWrite; memo: ChangeMemo }[] = [];
    // A create whose outcome is unknown stays in the journal, for the next run to settle.
    const answered = this.journal ? rows.filter((_, i) => outcomes[i].status !== 'unknown').map((row) => row.write.key) : [];
    rows.forEach((row, i) => {
      const { write, memo } = row;
      const outcome = outcomes[i];
      if (outcome.status === 'created' || outcome.status === 'updated' || outcome.status === 'unchanged') {
        const crmId = outcome.id ?? memo.previous?.crmId ?? null;
        written.push({ key: write.key, crmId, hashesJson: mergedHashes(memo, outcome.notes) });
      } else if (outcome.status === 'removed') {
        removed.push(write.key);
      } else {
        unwritten.push(row);
      }
    });
    await this.store.saveWrites(this.objectId, written, answered);
    if (removed.length > 0) await this.store.forget(this.objectId, removed);
    await this.markUnwrittenSeen(unwritten);
  }

  /** Keys of rows refused before they reached the tracker (a value that cannot convert): still in the segment. */
  markSeen(keys: string[]): Promise<void> {
    return this.store.markSeen(this.objectId, keys);
  }

  /** Rows that settled without a write (refused, not found, skipped): their new keys are marked seen now. */
  async settledUnwritten(rows: { write: PendingWrite; memo: ChangeMemo }[]): Promise<void> {
    if (this.journal) await this.store.resolveCreates(this.objectId, rows.map(({ write }) => write.key));
    await this.markUnwrittenSeen(rows);
  }

  private async markUnwrittenSeen(rows: { write: PendingWrite; memo: ChangeMemo }[]): Promise<void> {
    const unmarked = rows.filter(({ memo }) => !memo.markedSeen).map(({ write }) => write.key);
    if (unmarked.length > 0) await this.store.markSeen(this.objectId, unmarked);
  }

  private decide(row: MappedRow, previous: LookedUp | undefined, markedSeen: boolean, convert: Convert): Decision {
    const rowHash = this.rowContext === undefined ? undefined : hashRow(this.rowContext, row.key, row.values);
    // Read as when it was last written: converted, it would hash as then too.
    if (previous && rowHash !== undefined && !this.fullResync && previous.hashesJson.startsWith(rowHashPrefix(rowHash))) {
      return { send: false, memo: { hashesJson: previous.hashesJson, previous, markedSeen } };
    }
    const prepared = convert(row);
    if (!prepared.ok) return { send: false, memo: { hashesJson: '{}', previous, markedSeen }, refused: prepared.rejection };
    const { values } = prepared;
    const hashes = hashFields(values);
    const memo: ChangeMemo = { hashesJson: hashesText(rowHash, hashes), previous, markedSeen };
    if (!previous || this.fullResync) return { send: true, values, memo, changedFields: Object.keys(values) };
    // The same fields with the same hashes store as the same text: nothing to parse or compare.
    if (previous.hashesJson === memo.hashesJson) return { send: false, memo };
    const changedFields: string[] = [];
    for (const name in values) if (previous.hashes[name] !== hashes[name]) changedFields.push(name);
    if (changedFields.length === 0) return { send: false, memo };
    if (this.plan.operation === 'insert') return { send: true, values, memo, changedFields };
    return { send: true, values: changedValues(values, changedFields, this.plan), memo, changedFields };
  }

  /**
   * Unchanged rows whose stored hashes lack this row hash (written by an older version, or read
   * differently: "1.50" for "1.5"): their hashes are saved with it, once, so that the next run
   * finds them unchanged without converting them. Not in a dry run, which saves nothing.
   */
  private async refreshRowHashes(decisions: Decision[]): Promise<void> {
    if (this.rowContext === undefined || !this.markNewKeysOnSettle) return;
    const refreshed: WrittenRecord[] = [];
    for (const decision of decisions) {
      const { memo } = decision;
      if (decision.send || decision.refused || !memo.previous || memo.hashesJson === memo.previous.hashesJson) continue;
      refreshed.push({ key: memo.previous.key, crmId: memo.previous.crmId, hashesJson: mergedHashes(memo) });
    }
    if (refreshed.length > 0) await this.store.saveWrites(this.objectId, refreshed);
  }
}

/**
 * What a row's conversion depends on besides its values: the writer's fingerprint of the fields it
 * converts by, and the connector's version (conversion code changes with it). Undefined when the
 * writer gives none: then every row is converted.
 */
export function rowContext(writer: ObjectWriter): string | undefined {
  const fingerprint = writer.conversionFingerprint?.();
  // Hashed once: the context is mixed into every row's hash.
  return fingerprint === undefined ? undefined : hashValue(`${packageJson.version}\n${fingerprint}`);
}

/** An update's values: the changed fields, and the key field the CRM module matches by. */
export function changedValues(values: Values, changedFields: string[], plan: StreamPlan): Values {
  const keyField = plan.match.destination;
  const changed: Values = {};
  for (const name of changedFields) changed[name] = values[name];
  if (keyField && keyField in values) changed[keyField] = values[keyField];
  return changed;
}

/**
 * The new hashes over the stored ones: fields this row did not carry keep what was written before;
 * the CRM module's notes of this write go over both. The row hash first (a prefix check reads it)
 * is this row's, never a stored one (it hashed other values); none when a note replaces a field's
 * hash (links to find again next run): the next run must then compare field by field.
 */
function mergedHashes(memo: ChangeMemo, notes?: WriteNotes): string {
  const previous = memo.previous;
  const noted = notes !== undefined && Object.keys(notes).length > 0;
  if (!noted && (!previous || previous.hashesJson === memo.hashesJson)) return memo.hashesJson;
  const stored = previous?.hashes ?? {};
  const hashes = JSON.parse(memo.hashesJson) as Record<string, string>;
  if (!noted && Object.keys(stored).every((name) => name in hashes)) return memo.hashesJson;
  const overridesField = noted && Object.keys(notes).some((name) => name in hashes);
  const rowHash = overridesField ? undefined : hashes[ROW_HASH_ENTRY];
  const merged: Record<string, string | undefined> = { [ROW_HASH_ENTRY]: rowHash, ...stored, ...hashes, ...notes };
  if (rowHash === undefined) delete merged[ROW_HASH_ENTRY];
  return JSON.stringify(merged);
}
