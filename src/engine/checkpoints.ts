// STATE discipline. Every record gets a sequence number; a state is released only once every
// record received before it has settled (written, unchanged, skipped or rejected), in the order
// states arrived, with counts of the records since the previous state of the same scope.
// Memory is bounded by the records in flight, not by the input. A record whose outcome is unknown
// is held: no state after it is ever released in this run, so the source resends from before it.

export interface IntervalCounts {
  records: number;
  rejected: number;
}

export interface ReleasedState<T> {
  body: T;
  counts: IntervalCounts;
}

export const GLOBAL_SCOPE = 'global';

export class Checkpoints<T> {
  private nextSeq = 0;
  /** The oldest record not settled yet (nextSeq when none is): states up to it can go out. */
  private lowestUnsettled = 0;
  private readonly openIntervals = new Map<string, IntervalCounts>();
  private readonly intervalsOfRecord = new Map<number, IntervalCounts[]>();
  private readonly pending: { afterSeq: number; state: ReleasedState<T> }[] = [];
  /** The first record held for good, if any: states after it are dropped as they come. */
  private heldAt = Infinity;
  private statesHeldBack = 0;
  /** The open intervals of a scopes array, looked up once per array until a state closes one. */
  private intervalsOfScopes = new WeakMap<readonly string[], IntervalCounts[]>();

  /** Registers a record counted in each scope (the global one and its stream's). */
  receiveRecord(scopes: readonly string[]): number {
    const seq = this.nextSeq++;
    let intervals = this.intervalsOfScopes.get(scopes);
    if (!intervals) {
      intervals = scopes.map((scope) => this.openInterval(scope));
      this.intervalsOfScopes.set(scopes, intervals);
    }
    for (const interval of intervals) interval.records += 1;
    this.intervalsOfRecord.set(seq, intervals);
    return seq;
  }

  settle(seq: number, rejected: boolean): void {
    const intervals = this.intervalsOfRecord.get(seq);
    if (!intervals) throw new Error(`record ${seq} settled twice or never received`);
    this.intervalsOfRecord.delete(seq);
    if (rejected) for (const interval of intervals) interval.rejected += 1;
    this.advance(seq);
  }

  /** The record will never settle: it blocks every later state (they are counted, not kept). */
  hold(seq: number): void {
    if (!this.intervalsOfRecord.delete(seq)) throw new Error(`record ${seq} settled twice or never received`);
    this.heldAt = Math.min(this.heldAt, seq);
    const kept = this.pending.filter((p) => p.afterSeq <= this.heldAt);
    this.statesHeldBack += this.pending.length - kept.length;
    this.pending.splice(0, this.pending.length, ...kept);
    // Tracked as settled for the bookkeeping, so later records do not pile up behind it.
    this.advance(seq);
  }

  /**
   * intervalsOfRecord holds exactly the unsettled records, in the order they came (a Map keeps
   * insertion order), so the oldest is its first key. Nothing is kept per record settled ahead of
   * it: when a batch holds the oldest record for long (a Bulk API job filling up with the few
   * changed rows of a large rerun), every other row may settle meanwhile.
   */
  private advance(seq: number): void {
    if (seq !== this.lowestUnsettled) return;
    const oldest = this.intervalsOfRecord.keys().next();
    this.lowestUnsettled = oldest.done ? this.nextSeq : oldest.value;
  }

  receiveState(scope: string, body: T): void {
    const counts = this.openInterval(scope);
    this.openIntervals.set(scope, { records: 0, rejected: 0 });
    // A new interval is open: cached lookups of the closed one must not be reused.
    this.intervalsOfScopes = new WeakMap();
    if (this.nextSeq > this.heldAt) {
      this.statesHeldBack += 1;
      return;
    }
    this.pending.push({ afterSeq: this.nextSeq, state: { body, counts } });
  }

  /** States whose preceding records have all settled, oldest first. */
  takeReleasable(): ReleasedState<T>[] {
    const ready: ReleasedState<T>[] = [];
    while (this.pending.length > 0 && this.pending[0].afterSeq <= this.lowestUnsettled) {
      ready.push(this.pending.shift()!.state);
    }
    return ready;
  }

  get unsettledCount(): number {
    return this.intervalsOfRecord.size;
  }

  /** States not released: waiting on records, or dropped behind a held record. */
  get pendingStateCount(): number {
    return this.pending.length + this.statesHeldBack;
  }

  private openInterval(scope: string): IntervalCounts {
    let interval = this.openIntervals.get(scope);
    if (!interval) {
      interval = { records: 0, rejected: 0 };
      this.openIntervals.set(scope, interval);
    }
    return interval;
  }
}
