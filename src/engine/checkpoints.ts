// STATE discipline. Every record gets a sequence number; a state is released only once every
// record received before it has settled (written, unchanged, skipped or rejected), in the order
// states arrived, with counts of the records since the previous state of the same scope.
// Memory is bounded by the records in flight, not by the input.

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
  private lowestUnsettled = 0;
  private readonly settledAhead = new Set<number>();
  private readonly openIntervals = new Map<string, IntervalCounts>();
  private readonly intervalsOfRecord = new Map<number, IntervalCounts[]>();
  private readonly pending: { afterSeq: number; state: ReleasedState<T> }[] = [];
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
    if (seq !== this.lowestUnsettled) {
      this.settledAhead.add(seq);
      return;
    }
    this.lowestUnsettled += 1;
    while (this.settledAhead.delete(this.lowestUnsettled)) this.lowestUnsettled += 1;
  }

  receiveState(scope: string, body: T): void {
    const counts = this.openInterval(scope);
    this.openIntervals.set(scope, { records: 0, rejected: 0 });
    this.intervalsOfScopes = new WeakMap();
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

  get pendingStateCount(): number {
    return this.pending.length;
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
