// What the sync loop hands prepared rows to: the CRM batcher, optionally behind the change
// filter, or the dry-run planner. All share this shape so the loop does not care which it has.
import type { PendingWrite, Values } from '../crm/destination.js';
import type { ChangeMemo } from './change-tracker.js';
import type { BatchOrigin } from '../protocol/batch-files.js';

export interface SinkItem {
  seq: number;
  line: number;
  /** The batch file and line the row came from, when it came from one. */
  origin?: BatchOrigin;
  /** The stream the row came in (the plan may take any). */
  stream?: string;
  data: Values;
  /** Its values as mapped until a change filter converts them (without one: converted before the sink). */
  write: PendingWrite;
  /** Set by the change filter: what the store knew and the new hashes. */
  memo?: ChangeMemo;
  /** Whether the CRM already has a record for the key, when a change filter could tell. */
  known?: boolean;
  /**
   * Set once the row was diffed or sent: from then on a later row of its key cannot take its place,
   * it waits for this one to settle.
   */
  locked?: boolean;
}

export interface RowSink {
  /** Queues the row; answers a promise only when the caller must wait for room (backpressure). */
  add(item: SinkItem): Promise<void> | undefined;
  /**
   * Sends what has waited long enough, so a slow source still gets its states back. Answers the
   * work it started: its failure (a store or CRM read that failed) must stop the run.
   */
  flushIfIdle(idleMs: number): Promise<void> | undefined;
  /** Sends everything and waits until all of it has settled. */
  drain(): Promise<void>;
  /** Waits for what is in flight without sending more (used when stopping). */
  settleInFlight(): Promise<void>;
}
