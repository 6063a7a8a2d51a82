// The sync loop: read → route to a stream plan → map → convert → diff → batch → write → settle →
// release states → (complete runs) handle rows that left the segment. It knows CRMs only through
// ObjectWriter and the outside world only through the options' callbacks.
import type { InputMessage, Protocol } from '../protocol/input.js';
import type { ResolvedPlans, StreamPlan } from '../config/stream-plan.js';
import type { OnRemoval } from '../config/spec.js';
import type { ObjectWriter, Rejection, RowOutcome, Values } from '../crm/destination.js';
import { asConnectorError, bugError, ConnectorError, INTERRUPTED, transientError } from '../errors.js';
import { abortable } from '../protocol/abortable.js';
import type { Logger } from '../protocol/log.js';
import type { StateStore } from '../store/state-store.js';
import { ChangeFilter } from './change-filter.js';
import { ChangeTracker } from './change-tracker.js';
import { canCompareWithCrm, CrmChangeFilter } from './crm-change-filter.js';
import { Checkpoints, type ReleasedState } from './checkpoints.js';
import { StateScopes, stateScope } from './state-scopes.js';
import { RunCounts, type FinalStatus } from './counts.js';
import { handleDepartures } from './departures.js';
import { DryRunPlanner, type PlannedChange } from './dry-run.js';
import { mapRow } from './mapping.js';
import type { RowSink, SinkItem } from './row-sink.js';
import { StreamSink } from './stream-sink.js';

export interface StateMessage {
  protocol: Protocol;
  body: Record<string, unknown>;
}

export interface RejectedRecord {
  line: number;
  stream?: string;
  key?: string;
  data?: Values;
  rejection: Rejection;
}

export interface OpenedPlan {
  writer: ObjectWriter;
  /** Identifies the CRM object across runs, for the state store. */
  objectId: string;
  /** A writer matching records by CRM id, for clearing or archiving rows that left the segment. */
  openRemovalWriter(how: Exclude<OnRemoval, 'ignore'>): Promise<ObjectWriter>;
}

export interface SyncOptions {
  plans: ResolvedPlans;
  opened: ReadonlyMap<StreamPlan, OpenedPlan>;
  log: Logger;
  releaseState(state: ReleasedState<StateMessage>): Promise<void>;
  onRejected?(record: RejectedRecord): void;
  /** The change-detection store; undefined when change detection is off. */
  store?: StateStore;
  /** Compare rows with the CRM's current values instead of the store's hashes (change_detection: crm). */
  compareWithCrm?: boolean;
  fullResync?: boolean;
  dryRun?: boolean;
  /** Singer and JSONL runs that hold the whole segment (Airbyte says so per stream). */
  completeSegment?: boolean;
  /** A partial batch older than this goes out without waiting to fill. */
  idleFlushMs?: number;
  /** Stops reading (SIGTERM, SIGINT; its reason names the signal): rows already read are written, their states go out, then the run ends. */
  stopSignal?: AbortSignal;
  /** Called once when the run fails: work still waiting to retry can give up instead. */
  onStopping?(): void;
  /** Called every few seconds with the rows read and settled so far. */
  onProgress?(progress: Progress): void;
  /** Called for every record read, with its stream (stream statuses). */
  onRecord?(stream: string | undefined, namespace: string | undefined): void;
  progressIntervalMs?: number;
}

export interface Progress {
  read: number;
  settled: number;
  elapsedMs: number;
}

export interface SyncResult {
  counts: RunCounts;
  fatal?: ConnectorError;
  statesPending: number;
  /** Dry run: a sample of the changes each object would get. */
  planned: Map<string, PlannedChange[]>;
  /** API requests per target, where the CRM module counts them. */
  apiCalls: Map<string, number>;
}

/** A store failure the store explained (disk full, damaged file) keeps its words; anything else is ours. */
function storeError(error: unknown, what: string): ConnectorError {
  return error instanceof ConnectorError ? error : bugError(`${what}: ${(error as Error).message}`, { cause: error });
}

/** Where records that no plan consumes are counted. */
export const UNROUTED = '(unrouted)';

/** Runs over `input` (batches of messages, as readInput yields them). */
export async function runSync(input: AsyncIterable<InputMessage[]>, options: SyncOptions): Promise<SyncResult> {
  return new SyncRun(options).run(input);
}

interface Pipeline {
  plan: StreamPlan;
  opened: OpenedPlan;
  sink: RowSink;
  tracker?: ChangeTracker;
  planner?: DryRunPlanner;
  /** Keys between arrival and settlement, with their line: a key twice in flight would race in the CRM. */
  unsettledKeys: Map<string, number>;
  ignoredColumns: Set<string>;
}

class SyncRun {
  private readonly checkpoints = new Checkpoints<StateMessage>();
  private readonly counts = new RunCounts();
  private readonly pipelines = new Map<StreamPlan, Pipeline>();
  private fatal?: ConnectorError;
  /** Rows whose write may or may not have landed: reported, and their states held back. */
  private unknownOutcomes = 0;
  private releasing: Promise<void> = Promise.resolve();
  private readonly startedAt = Date.now();
  private readonly scopes = new StateScopes();

  constructor(private readonly options: SyncOptions) {
    for (const [plan, opened] of options.opened) this.pipelines.set(plan, this.pipeline(plan, opened));
  }

  private pipeline(plan: StreamPlan, opened: OpenedPlan): Pipeline {
    const { store, fullResync, dryRun, compareWithCrm } = this.options;
    // Comparing with the CRM, the store still catches repeated keys but decides nothing else.
    const tracker = store ? new ChangeTracker(store, opened.objectId, plan, (fullResync ?? false) || (compareWithCrm ?? false), !dryRun, opened.writer.journalsCreates) : undefined;
    const pipeline: Pipeline = { plan, opened, sink: undefined as unknown as RowSink, tracker, unsettledKeys: new Map(), ignoredColumns: new Set() };
    let sink: RowSink;
    if (dryRun) {
      pipeline.planner = new DryRunPlanner(plan, (item, status) => this.settle(pipeline, item, status));
      sink = pipeline.planner;
    } else {
      sink = new StreamSink(opened.writer, {
        settled: (items, outcomes) => this.onWritten(pipeline, items, outcomes),
        failed: (items, error) => this.onWriteFailed(pipeline, items, error),
      });
    }
    if (compareWithCrm && !fullResync) sink = this.crmChangeFilter(pipeline, sink);
    pipeline.sink = tracker
      ? new ChangeFilter(tracker, sink, (item) => this.settle(pipeline, item, 'unchanged'), (item) => this.rejectItem(pipeline, item, {
          code: 'duplicate_key', field: plan.match.source, message: `key "${item.write.key}" came earlier in this run; only its first row is written`,
        }))
      : sink;
    return pipeline;
  }

  private crmChangeFilter(pipeline: Pipeline, next: RowSink): RowSink {
    const { writer } = pipeline.opened;
    if (!canCompareWithCrm(writer)) throw bugError(`${pipeline.plan.origin}: this CRM cannot compare rows with its records`);
    return new CrmChangeFilter(writer, pipeline.plan, next, (item) => {
      // Settled without a write: the store must still learn the key was seen (a repeat is a duplicate).
      pipeline.tracker?.settledUnwritten([{ write: item.write, memo: item.memo! }]);
      this.settle(pipeline, item, 'unchanged');
    });
  }

  async run(input: AsyncIterable<InputMessage[]>): Promise<SyncResult> {
    const idleMs = this.options.idleFlushMs ?? 1000;
    const idleFlushing = setInterval(this.idleFlusher(idleMs), Math.max(50, idleMs / 2));
    // Progress goes on while the last batches drain: at the end of a large run that takes a while.
    const reporting = setInterval(() => this.reportProgress(), this.options.progressIntervalMs ?? 5000);
    [idleFlushing, reporting].forEach((timer) => timer.unref());
    const stopSignal = this.options.stopSignal;
    try {
      reading: for await (const batch of stopSignal ? abortable(input, stopSignal) : input) {
        for (const message of batch) {
          // Most records are handled synchronously: wait only for room in a sink or for state output.
          const waiting = this.handle(message);
          if (waiting) await waiting;
          if (this.fatal || stopSignal?.aborted) break reading;
        }
      }
    } catch (error) {
      this.stop(error);
    } finally {
      clearInterval(idleFlushing);
    }
    await this.finish().finally(() => clearInterval(reporting));
    if (this.unknownOutcomes > 0) {
      this.stop(transientError(`${this.unknownOutcomes} row(s) may or may not have been written (the connection failed after they were sent, and the CRM could not be asked); they are listed with reason unknown_outcome and the states after them were held back; rerun to continue`, { code: 'unknown_outcome' }));
    }
    // A batch given up because of the stop is part of the stop, not a failure of its own.
    if (stopSignal?.aborted && (!this.fatal || this.fatal.code === INTERRUPTED)) {
      this.fatal = transientError(`interrupted (${String(stopSignal.reason ?? 'signal')}): the rows written were committed and their states emitted; rerun to continue`, { code: INTERRUPTED });
    }
    if (!this.fatal) await this.handleDepartures();
    this.warnIgnoredColumns();
    const planned = new Map([...this.pipelines.values()].filter((p) => p.planner).map((p) => [p.plan.origin, p.planner!.samples]));
    const apiCalls = new Map([...this.pipelines.values()].flatMap((p) => {
      const count = p.opened.writer.requestCount?.();
      return count === undefined ? [] : [[p.plan.origin, count] as const];
    }));
    return { counts: this.counts, fatal: this.fatal, statesPending: this.checkpoints.pendingStateCount, planned, apiCalls };
  }

  /**
   * Sends partial batches once their stream has gone quiet. A tick that comes late means the event
   * loop was busy with our own work (committing thousands of outcomes, building a bulk upload), not
   * that the source went quiet: that tick flushes nothing, or one large batch would go out in pieces.
   */
  private idleFlusher(idleMs: number): () => void {
    const period = Math.max(50, idleMs / 2);
    let lastTick = Date.now();
    return () => {
      const now = Date.now();
      const stalled = now - lastTick > period + idleMs / 2;
      lastTick = now;
      if (!stalled) this.pipelines.forEach((p) => p.sink.flushIfIdle(idleMs));
    };
  }

  private handle(message: InputMessage): Promise<void> | undefined {
    switch (message.kind) {
      case 'record':
        return this.handleRecord(message);
      case 'state':
        this.checkpoints.receiveState(stateScope(message.body, message.protocol), { protocol: message.protocol, body: message.body });
        return this.releaseStates();
      case 'invalid': {
        const seq = this.checkpoints.receiveRecord(this.scopes.ofBrokenLine(message.stream));
        this.counts.received(UNROUTED);
        this.reject(seq, UNROUTED, { line: message.line, stream: message.stream, rejection: { code: message.code, message: message.reason } });
        return this.releaseStates();
      }
      case 'schema':
      case 'activate_version':
      case 'ignored':
        return;
    }
  }

  private handleRecord(message: Extract<InputMessage, { kind: 'record' }>): Promise<void> | undefined {
    this.options.onRecord?.(message.stream, message.namespace);
    const seq = this.checkpoints.receiveRecord(this.scopes.ofRecord(message.stream, message.namespace));
    const plan = this.options.plans.planFor(message.stream);
    const target = plan?.origin ?? UNROUTED;
    this.counts.received(target);
    const pipeline = plan && this.pipelines.get(plan);
    if (!plan || !pipeline) {
      const unconfigured = message.stream === undefined ? undefined : this.options.plans.unconfigured.get(message.stream);
      if (unconfigured) return this.rejectRecord(seq, target, message, { code: 'stream_not_configured', message: unconfigured });
      return this.rejectRecord(seq, target, message, { code: 'unknown_stream', message: `no sync configuration consumes stream "${message.stream ?? '(bare rows)'}"` });
    }
    const { writer } = pipeline.opened;
    const mapped = mapRow(message.data, plan, writer, pipeline.ignoredColumns);
    if (!mapped.ok) return this.rejectRecord(seq, target, message, mapped.rejection);
    const { key } = mapped.row;
    const earlierLine = pipeline.unsettledKeys.get(key);
    if (earlierLine !== undefined) {
      return this.rejectRecord(seq, target, message, { code: 'duplicate_key', field: plan.match.source, message: `key "${key}" already came on line ${earlierLine} of this run` }, key);
    }
    const prepared = writer.prepare(mapped.row);
    if (!prepared.ok) return this.rejectRecord(seq, target, message, prepared.rejection, key);
    pipeline.unsettledKeys.set(key, message.line);
    return pipeline.sink.add({ seq, line: message.line, data: message.data, write: { key, values: prepared.values } });
  }

  /** A record refused before it reached a sink: settled at once, so states after it may go out. */
  private rejectRecord(seq: number, target: string, message: Extract<InputMessage, { kind: 'record' }>, rejection: Rejection, key?: string): Promise<void> {
    this.reject(seq, target, { line: message.line, stream: message.stream, key, data: message.data, rejection });
    return this.releaseStates();
  }

  private onWritten(pipeline: Pipeline, items: SinkItem[], outcomes: RowOutcome[]): void {
    if (outcomes.length !== items.length) {
      this.stop(bugError(`${pipeline.plan.origin}: the CRM writer returned ${outcomes.length} outcomes for ${items.length} rows`));
      return;
    }
    try {
      // Committed to the store before any state after these rows can be released.
      pipeline.tracker?.confirm(items.map((item) => ({ write: item.write, memo: item.memo! })), outcomes);
    } catch (error) {
      // The CRM answered: the counts say what landed, but no state goes out past rows the store did not record.
      items.forEach((item, i) => this.holdAnswered(pipeline, item, outcomes[i]));
      this.stop(storeError(error, 'could not record the written rows in the state store'));
      return;
    }
    items.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome.status === 'rejected') {
        const { status: _status, ...rejection } = outcome;
        this.rejectItem(pipeline, item, rejection);
      } else if (outcome.status === 'unknown') {
        this.holdItem(pipeline, item, { code: outcome.code, message: outcome.message });
      } else {
        this.settle(pipeline, item, outcome.status);
      }
    });
    void this.releaseStates();
  }

  private onWriteFailed(pipeline: Pipeline, items: SinkItem[], error: unknown): void {
    const failure = asConnectorError(error);
    if (failure.category !== 'record') {
      // The rows stay unsettled, so no state after them is released: the rerun resends them.
      this.stop(failure);
      return;
    }
    const rejection = { code: failure.code ?? 'rejected', message: failure.message, field: failure.field };
    try {
      // Before the keys leave the in-flight set: a repeat of one later in the run is then a duplicate.
      pipeline.tracker?.settledUnwritten(items.map((item) => ({ write: item.write, memo: item.memo! })));
    } catch (error) {
      this.stop(storeError(error, 'could not record the refused rows in the state store'));
      return;
    }
    for (const item of items) this.rejectItem(pipeline, item, rejection);
    void this.releaseStates();
  }

  private settle(pipeline: Pipeline, item: SinkItem, status: FinalStatus): void {
    pipeline.unsettledKeys.delete(item.write.key);
    this.counts.settled(pipeline.plan.origin, status);
    this.checkpoints.settle(item.seq, false);
  }

  private rejectItem(pipeline: Pipeline, item: SinkItem, rejection: Rejection): void {
    pipeline.unsettledKeys.delete(item.write.key);
    this.reject(item.seq, pipeline.plan.origin, { line: item.line, stream: pipeline.plan.stream, key: item.write.key, data: item.data, rejection });
  }

  /** Reported like a rejection, but never settled: no state after it goes out. */
  private holdItem(pipeline: Pipeline, item: SinkItem, reason: Rejection): void {
    pipeline.unsettledKeys.delete(item.write.key);
    this.unknownOutcomes += 1;
    this.counts.settled(pipeline.plan.origin, 'unknown');
    this.checkpoints.hold(item.seq);
    this.options.onRejected?.({ line: item.line, stream: pipeline.plan.stream, key: item.write.key, data: item.data, rejection: reason });
  }

  /** Counted as the CRM answered, but never settled: the store does not know it, so no state after it goes out. */
  private holdAnswered(pipeline: Pipeline, item: SinkItem, outcome: RowOutcome): void {
    pipeline.unsettledKeys.delete(item.write.key);
    this.counts.settled(pipeline.plan.origin, outcome.status);
    this.checkpoints.hold(item.seq);
  }

  private reject(seq: number, target: string, record: RejectedRecord): void {
    this.counts.settled(target, 'rejected');
    this.checkpoints.settle(seq, true);
    this.options.onRejected?.(record);
  }

  private stop(error: unknown): void {
    if (this.fatal) return;
    this.fatal = asConnectorError(error);
    this.options.onStopping?.();
  }

  /** Emits releasable states one after another, in the order they arrived. */
  private releaseStates(): Promise<void> {
    this.releasing = this.releasing.then(async () => {
      for (const state of this.checkpoints.takeReleasable()) await this.options.releaseState(state);
    });
    return this.releasing;
  }

  private reportProgress(): void {
    const total = this.counts.total();
    const settled = total.received - this.checkpoints.unsettledCount;
    this.options.onProgress?.({ read: total.received, settled, elapsedMs: Date.now() - this.startedAt });
  }

  /** Sends what was read (also when interrupted: it is bounded by the buffers), unless the run failed. */
  private async finish(): Promise<void> {
    const sinks = [...this.pipelines.values()].map((p) => p.sink);
    if (this.fatal) await Promise.all(sinks.map((sink) => sink.settleInFlight()));
    else await Promise.all(sinks.map((sink) => sink.drain()));
    await this.releaseStates();
  }

  /** Only a complete run that finished cleanly can say who left the segment. */
  private async handleDepartures(): Promise<void> {
    const { store, log, dryRun } = this.options;
    if (!store) return;
    for (const { plan, opened } of this.pipelines.values()) {
      if (!plan.completeSegment && !this.options.completeSegment) continue;
      try {
        const result = await handleDepartures({
          plan, store, objectId: opened.objectId, log, dryRun: dryRun ?? false,
          openWriter: (how) => opened.openRemovalWriter(how),
        });
        this.counts.departed(plan.origin, result.left);
      } catch (error) {
        this.stop(error);
        return;
      }
    }
  }

  private warnIgnoredColumns(): void {
    for (const { plan, ignoredColumns } of this.pipelines.values()) {
      if (ignoredColumns.size > 0) {
        this.options.log.warn(`${plan.origin}: columns with no writable field of ${plan.object} were not sent: ${[...ignoredColumns].sort().join(', ')}`);
      }
    }
  }
}
