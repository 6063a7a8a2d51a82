// The sync loop: read → route to a stream plan → map → convert → diff → batch → write → settle →
// release states → (complete runs) handle rows that left the segment. It knows CRMs only through
// ObjectWriter and the outside world only through the options' callbacks.
import type { InputMessage, InputState } from '../protocol/input.js';
import type { RejectedRecord } from '../protocol/rejected-file.js';
import type { ResolvedPlans, StreamPlan } from '../config/stream-plan.js';
import type { OnRemoval } from '../config/spec.js';
import type { ObjectWriter, Rejection, RowOutcome, Values } from '../crm/destination.js';
import { asConnectorError, bugError, configError, ConnectorError, INTERRUPTED, transientError } from '../errors.js';
import { missingSourceColumns } from '../config/source-columns.js';
import { abortable } from '../protocol/abortable.js';
import type { Logger } from '../protocol/log.js';
import { LOOKUP_CHUNK, type ChangeStore } from '../store/store.js';
import { ChangeFilter } from './change-filter.js';
import { ChangeTracker, rowContext } from './change-tracker.js';
import { canCompareWithCrm, CrmChangeFilter } from './crm-change-filter.js';
import { Checkpoints, type ReleasedState } from './checkpoints.js';
import { StateScopes } from './state-scopes.js';
import { RunCounts, type FinalStatus } from './counts.js';
import { handleDepartures } from './departures.js';
import { DryRunPlanner, type PlannedChange } from './dry-run.js';
import { mapRow } from './mapping.js';
import type { RowSink, SinkItem } from './row-sink.js';
import { StreamSink } from './stream-sink.js';
import { TableVersions, type VersionMemory } from './table-versions.js';

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
  releaseState(state: ReleasedState<InputState>): Promise<void>;
  onRejected?(record: RejectedRecord): void;
  /** The change-detection store; undefined when change detection is off. */
  store?: ChangeStore;
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
  /** What people call each target in the summary: `stream:object`, or the object for the entry taking any stream. */
  labels: Map<string, string>;
}

/** A store failure the store explained (disk full, damaged file) keeps its words; anything else is ours. */
function storeError(error: unknown, what: string): ConnectorError {
  return error instanceof ConnectorError ? error : bugError(`${what}: ${(error as Error).message}`, { cause: error });
}

/** Where records that no plan consumes are counted. */
export const UNROUTED = '(unrouted)';

/** One token (the summary table is split on spaces): the stream and the object it feeds. */
export function targetLabel(plan: StreamPlan): string {
  return plan.stream === undefined ? plan.object : `${plan.stream}:${plan.object}`.replace(/\s/g, '_');
}

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
  /**
   * Keys between arrival and settlement, with their row and the later row waiting for it: a key in
   * two writes at once would race in the CRM. At most one row waits per key, so memory stays
   * bounded by the rows in flight.
   */
  unsettled: Map<string, UnsettledKey>;
  /** Rows replaced by a later row of their key this run. */
  superseded: number;
  /** Keys of rows refused before the change filter, to mark as seen in the store a chunk at a time. */
  refusedKeys: string[];
  ignoredColumns: Set<string>;
  /** The writer that cleared or archived the rows that left the segment, once opened: its calls count for the object. */
  removalWriter?: ObjectWriter;
}

interface UnsettledKey {
  item: SinkItem;
  /** The key's latest row, waiting for `item` (already diffed or sent) to settle. */
  waiting?: SinkItem;
}

class SyncRun {
  private readonly checkpoints = new Checkpoints<InputState>();
  private readonly counts = new RunCounts();
  private readonly pipelines = new Map<StreamPlan, Pipeline>();
  private fatal?: ConnectorError;
  /** Aborted by the first failure: reading stops. */
  private readonly failing = new AbortController();
  /** Rows whose write may or may not have landed: reported, and their states held back. */
  private unknownOutcomes = 0;
  private releasing: Promise<void> = Promise.resolve();
  private readonly startedAt = Date.now();
  private readonly scopes = new StateScopes();
  private readonly warnedStreams = new Set<string | undefined>();
  /** Dry run: states that would have gone out. */
  private statesWithheld = 0;
  /** Columns of a stream's latest SCHEMA, until its next record checks them against the plan that takes it. */
  private readonly schemaToCheck = new Map<string, string[]>();
  /** Singer streams whose whole table this run carries (ACTIVATE_VERSION). */
  private readonly tables: TableVersions;
  /** The first rejection of each target: named when every row of it was rejected. */
  private readonly firstRejection = new Map<string, RejectedRecord>();

  constructor(private readonly options: SyncOptions) {
    this.tables = new TableVersions(options.log, (stream) => this.versionMemory(stream));
    for (const [plan, opened] of options.opened) this.pipelines.set(plan, this.pipeline(plan, opened));
  }

  private pipeline(plan: StreamPlan, opened: OpenedPlan): Pipeline {
    const { store, fullResync, dryRun, compareWithCrm } = this.options;
    // Comparing with the CRM, the store still catches repeated keys but decides nothing else.
    const tracker = store ? new ChangeTracker(store, opened.objectId, plan, (fullResync ?? false) || (compareWithCrm ?? false), !dryRun, opened.writer.journalsCreates, rowContext(opened.writer)) : undefined;
    const pipeline: Pipeline = { plan, opened, sink: undefined as unknown as RowSink, tracker, unsettled: new Map(), superseded: 0, refusedKeys: [], ignoredColumns: new Set() };
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
      ? new ChangeFilter(tracker, sink, (item) => this.settle(pipeline, item, 'unchanged'), (row) => opened.writer.prepare(row), (item, rejection) => this.refuse(pipeline, item, rejection))
      : sink;
    return pipeline;
  }

  /** A row the change filter could not convert: rejected like one refused on arrival. */
  private refuse(pipeline: Pipeline, item: SinkItem, rejection: Rejection): Promise<void> | undefined {
    const marking = this.keepInSegment(pipeline, item.write.key);
    this.reject(item.seq, pipeline.plan.origin, { line: item.line, stream: item.stream, key: item.write.key, data: item.data, origin: item.origin, rejection });
    this.keySettled(pipeline, item);
    return marking;
  }

  private crmChangeFilter(pipeline: Pipeline, next: RowSink): RowSink {
    const { writer } = pipeline.opened;
    if (!canCompareWithCrm(writer)) throw bugError(`${pipeline.plan.origin}: this CRM cannot compare rows with its records`);
    return new CrmChangeFilter(writer, pipeline.plan, next, async (item) => {
      // Settled without a write: the store must still learn the key was seen (it has not left the segment).
      await pipeline.tracker?.settledUnwritten([{ write: item.write, memo: item.memo! }]);
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
      // A failure stops reading at once too: a source that went quiet must not hold the run open.
      const stopReading = stopSignal ? AbortSignal.any([stopSignal, this.failing.signal]) : this.failing.signal;
      reading: for await (const batch of abortable(input, stopReading)) {
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
    if (!this.fatal) this.failIfAllRejected();
    this.warnIgnoredColumns();
    this.reportSuperseded();
    if (this.statesWithheld > 0) this.options.log.info(`dry run: ${this.statesWithheld} state message(s) not emitted, so the orchestrator keeps its bookmark`);
    const planned = new Map([...this.pipelines.values()].filter((p) => p.planner).map((p) => [p.plan.origin, p.planner!.samples]));
    const apiCalls = new Map([...this.pipelines.values()].map((p) => [p.plan.origin, p.opened.writer.requestCount() + (p.removalWriter?.requestCount() ?? 0)] as const));
    const labels = new Map([...this.pipelines.keys()].map((plan) => [plan.origin, targetLabel(plan)]));
    return { counts: this.counts, fatal: this.fatal, statesPending: this.checkpoints.pendingStateCount, planned, apiCalls, labels };
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
      if (!stalled) this.pipelines.forEach((p) => p.sink.flushIfIdle(idleMs)?.catch((error: unknown) => this.stop(error)));
    };
  }

  private handle(message: InputMessage): Promise<void> | undefined {
    switch (message.kind) {
      case 'record':
        return this.handleRecord(message);
      case 'state':
        this.checkpoints.receiveState(this.scopes.ofState(message.scope), message.state);
        return this.releaseStates();
      case 'invalid': {
        const seq = this.checkpoints.receiveRecord(this.scopes.ofBrokenLine(message.stream));
        this.counts.received(UNROUTED);
        this.reject(seq, UNROUTED, { line: message.line, stream: message.stream, raw: message.raw, origin: message.origin, rejection: { code: message.code, message: message.reason } });
        return this.releaseStates();
      }
      case 'schema':
        // Checked when a record shows which plan takes the stream (an entry without `stream` takes only one).
        if (message.columns && this.options.plans.planFor(message.stream)) this.schemaToCheck.set(message.stream, message.columns);
        else this.schemaToCheck.delete(message.stream);
        return;
      case 'activate_version':
        return this.options.plans.planFor(message.stream) ? this.tables.activate(message.stream, message.version) : undefined;
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
      return this.rejectRecord(seq, target, message, { code: 'unknown_stream', message: this.unknownStream(message.stream) });
    }
    if (message.stream !== undefined) this.tables.record(message.stream, message.version);
    if (this.schemaToCheck.size > 0 && !this.columnsFit(plan, message.stream)) return;
    const { writer } = pipeline.opened;
    const mapped = mapRow(message.data, plan, writer, pipeline.ignoredColumns);
    if (!mapped.ok) return this.rejectRecord(seq, target, message, mapped.rejection);
    const { key } = mapped.row;
    let { values } = mapped.row;
    // With change detection the change filter converts the row, after its lookup, and only if it may have changed.
    if (!pipeline.tracker) {
      const prepared = writer.prepare(mapped.row);
      if (!prepared.ok) return this.rejectRecord(seq, target, message, prepared.rejection, key);
      values = prepared.values;
    }
    const item: SinkItem = { seq, line: message.line, stream: message.stream, origin: message.origin, data: message.data, write: { key, values } };
    const earlier = pipeline.unsettled.get(key);
    if (earlier) return this.supersede(pipeline, earlier, item);
    pipeline.unsettled.set(key, { item });
    return pipeline.sink.add(item);
  }

  /**
   * The last row of a key is the current one (incremental and CDC streams). An earlier row still
   * waiting unsent takes the later one's values in its place; one already diffed or sent is left
   * to settle, and the later row waits for it, replacing any row that was waiting before.
   */
  private supersede(pipeline: Pipeline, earlier: UnsettledKey, later: SinkItem): Promise<void> {
    let replaced: SinkItem;
    if (!earlier.item.locked) {
      replaced = { ...earlier.item };
      Object.assign(earlier.item, { seq: later.seq, line: later.line, origin: later.origin, data: later.data, write: later.write });
    } else {
      replaced = earlier.waiting ?? later;
      earlier.waiting = later;
      if (replaced === later) return this.releaseStates();
    }
    pipeline.superseded += 1;
    this.counts.settled(pipeline.plan.origin, 'skipped');
    this.checkpoints.settle(replaced.seq, false);
    return this.releaseStates();
  }

  /** A row of the key settled: the row waiting for it, if any, goes on to be diffed and sent. */
  private keySettled(pipeline: Pipeline, item: SinkItem): void {
    const { key } = item.write;
    const entry = pipeline.unsettled.get(key);
    if (entry?.item !== item) return;
    const next = entry.waiting;
    if (!next) {
      pipeline.unsettled.delete(key);
      return;
    }
    pipeline.unsettled.set(key, { item: next });
    // After a fatal error nothing more is sent: the row stays unsettled, so no state after it goes out.
    if (this.fatal) return;
    pipeline.sink.add(next)?.catch((error: unknown) => this.stop(error));
  }

  /**
   * A mapping naming a column the stream's SCHEMA lacks would reject every row: the run stops before
   * this record (it stays unsettled, so no state after it goes out).
   */
  private columnsFit(plan: StreamPlan, stream: string | undefined): boolean {
    const columns = stream === undefined ? undefined : this.schemaToCheck.get(stream);
    if (!columns) return true;
    this.schemaToCheck.delete(stream!);
    const problem = missingSourceColumns(plan, columns, stream!, 'SCHEMA');
    if (problem) this.stop(configError(problem, { code: 'invalid_mapping' }));
    return problem === undefined;
  }

  /**
   * A row refused for one of its values is still in the segment: its key must not look as if it
   * left (a complete run would clear or archive its record). Marked in the store a chunk at a time.
   */
  private keepInSegment(pipeline: Pipeline, key?: string): Promise<void> | undefined {
    if (!pipeline.tracker || key === undefined) return undefined;
    pipeline.refusedKeys.push(key);
    return pipeline.refusedKeys.length >= LOOKUP_CHUNK ? this.markRefusedKeys(pipeline) : undefined;
  }

  private async markRefusedKeys(pipeline: Pipeline): Promise<void> {
    const keys = pipeline.refusedKeys.splice(0);
    if (keys.length === 0) return;
    try {
      await pipeline.tracker?.markSeen(keys);
    } catch (error) {
      this.stop(storeError(error, 'could not record the refused rows in the state store'));
    }
  }

  /** Why `stream` has no plan; the first time, also said as a warning (its rows are logged only up to a limit). */
  private unknownStream(stream: string | undefined): string {
    const reason = this.options.plans.whyUnrouted(stream);
    if (!this.warnedStreams.has(stream)) {
      this.warnedStreams.add(stream);
      this.options.log.warn(`${reason}; its rows are rejected (unknown_stream)`);
    }
    return reason;
  }

  /** A record refused before it reached a sink: settled at once, so states after it may go out. */
  private rejectRecord(seq: number, target: string, message: Extract<InputMessage, { kind: 'record' }>, rejection: Rejection, key?: string): Promise<void> {
    this.reject(seq, target, { line: message.line, stream: message.stream, key, data: message.data, origin: message.origin, rejection });
    return this.releaseStates();
  }

  private async onWritten(pipeline: Pipeline, items: SinkItem[], outcomes: RowOutcome[]): Promise<void> {
    if (outcomes.length !== items.length) {
      this.stop(bugError(`${pipeline.plan.origin}: the CRM writer returned ${outcomes.length} outcomes for ${items.length} rows`));
      return;
    }
    try {
      // Committed to the store before any state after these rows can be released.
      await pipeline.tracker?.confirm(items.map((item) => ({ write: item.write, memo: item.memo! })), outcomes);
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

  private async onWriteFailed(pipeline: Pipeline, items: SinkItem[], error: unknown): Promise<void> {
    const failure = asConnectorError(error);
    if (failure.category !== 'record') {
      // The rows stay unsettled, so no state after them is released: the rerun resends them.
      this.stop(failure);
      return;
    }
    const rejection = { code: failure.code ?? 'rejected', message: failure.message, field: failure.field };
    try {
      // Before a later row of one of these keys goes on: it is diffed against what the store holds.
      await pipeline.tracker?.settledUnwritten(items.map((item) => ({ write: item.write, memo: item.memo! })));
    } catch (error) {
      this.stop(storeError(error, 'could not record the refused rows in the state store'));
      return;
    }
    for (const item of items) this.rejectItem(pipeline, item, rejection);
    void this.releaseStates();
  }

  private settle(pipeline: Pipeline, item: SinkItem, status: FinalStatus): void {
    this.counts.settled(pipeline.plan.origin, status);
    this.checkpoints.settle(item.seq, false);
    this.keySettled(pipeline, item);
  }

  private rejectItem(pipeline: Pipeline, item: SinkItem, rejection: Rejection): void {
    this.reject(item.seq, pipeline.plan.origin, { line: item.line, stream: pipeline.plan.stream, key: item.write.key, data: item.data, origin: item.origin, rejection });
    this.keySettled(pipeline, item);
  }

  /**
   * Reported like a rejection, but never settled: no state after it goes out. A later row of the
   * key is not sent either (the lost write might still land after it) and is reported the same way.
   */
  private holdItem(pipeline: Pipeline, item: SinkItem, reason: Rejection): void {
    const waiting = pipeline.unsettled.get(item.write.key)?.waiting;
    pipeline.unsettled.delete(item.write.key);
    for (const held of waiting ? [item, waiting] : [item]) {
      this.unknownOutcomes += 1;
      this.counts.settled(pipeline.plan.origin, 'unknown');
      this.checkpoints.hold(held.seq);
      const why = held === item ? reason : { code: reason.code, message: `not sent: it waits for an earlier row of its key whose outcome is unknown (${reason.message})` };
      this.options.onRejected?.({ line: held.line, stream: pipeline.plan.stream, key: held.write.key, data: held.data, origin: held.origin, rejection: why });
    }
  }

  /**
   * Counted as the CRM answered, but never settled: the store does not know it, so no state after it
   * goes out. Its key stays in flight: the run is stopping, and a later row of it must not be sent.
   */
  private holdAnswered(pipeline: Pipeline, item: SinkItem, outcome: RowOutcome): void {
    this.counts.settled(pipeline.plan.origin, outcome.status);
    this.checkpoints.hold(item.seq);
  }

  private reject(seq: number, target: string, record: RejectedRecord): void {
    if (!this.firstRejection.has(target)) this.firstRejection.set(target, record);
    this.counts.settled(target, 'rejected');
    this.checkpoints.settle(seq, true);
    this.options.onRejected?.(record);
  }

  private stop(error: unknown): void {
    if (this.fatal) return;
    this.fatal = asConnectorError(error);
    this.failing.abort();
    this.options.onStopping?.();
  }

  /**
   * Emits releasable states one after another, in the order they arrived. A dry run wrote nothing,
   * so it emits none: the orchestrator would save the bookmark and the real run skip the rows.
   */
  private releaseStates(): Promise<void> {
    this.releasing = this.releasing.then(async () => {
      for (const state of this.checkpoints.takeReleasable()) {
        if (this.options.dryRun) this.statesWithheld += 1;
        else await this.options.releaseState(state);
      }
    });
    return this.releasing;
  }

  private reportProgress(): void {
    const total = this.counts.total();
    const settled = total.received - this.checkpoints.unsettledCount;
    this.options.onProgress?.({ read: total.received, settled, elapsedMs: Date.now() - this.startedAt });
  }

  /**
   * Sends what was read (also when interrupted: it is bounded by the buffers), unless the run failed.
   * A row waiting for a write of its key goes on when that write settles, maybe during the drain:
   * so the drain repeats until no key is left unsettled.
   */
  private async finish(): Promise<void> {
    const pipelines = [...this.pipelines.values()];
    const unsettledKeys = () => pipelines.reduce((sum, p) => sum + p.unsettled.size, 0);
    for (let left = Infinity; !this.fatal;) {
      // A drain that fails (the store unreachable) stops the run: its rows stay unsettled, their states held.
      await Promise.all(pipelines.map((p) => p.sink.drain())).catch((error: unknown) => this.stop(error));
      if (this.fatal) break;
      const now = unsettledKeys();
      if (now === 0) break;
      if (now >= left) this.stop(bugError(`${now} row(s) neither sent nor settled after the input ended`));
      left = now;
    }
    if (this.fatal) await Promise.all(pipelines.map((p) => p.sink.settleInFlight()));
    await this.releaseStates();
  }

  /** The table versions of the object a stream feeds, kept in the state store. */
  private versionMemory(stream: string): VersionMemory | undefined {
    const { store, plans } = this.options;
    const plan = plans.planFor(stream);
    const objectId = plan && this.pipelines.get(plan)?.opened.objectId;
    if (!store || objectId === undefined) return undefined;
    return {
      recall: (name) => store.tableVersion(objectId, name),
      remember: (name, version) => store.saveTableVersion(objectId, name, version),
    };
  }

  /** Whether every stream this plan took sent its whole table between ACTIVATE_VERSION messages. */
  private carriesWholeTable(plan: StreamPlan): boolean {
    const streams = [...this.tables.streamNames()].filter((stream) => this.options.plans.planFor(stream) === plan);
    return streams.length > 0 && streams.every((stream) => this.tables.isWholeTable(stream));
  }

  /**
   * Only a complete run that finished cleanly can say who left the segment, and only for an object
   * it had rows for: an empty or wholly rejected input (a failed export) says nothing about who left.
   */
  private async handleDepartures(): Promise<void> {
    const { store, log, dryRun } = this.options;
    if (!store) return;
    for (const pipeline of this.pipelines.values()) {
      const { plan, opened } = pipeline;
      if (!plan.completeSegment && !this.options.completeSegment && !this.carriesWholeTable(plan)) continue;
      await this.markRefusedKeys(pipeline);
      if (this.fatal) return;
      if (this.rowsThatCount(pipeline) === 0) {
        const why = this.counts.byTarget.has(plan.origin) ? 'had every row of it rejected' : 'held no row of it';
        log.warn(`${plan.origin}: the complete run ${why}, so no record is treated as having left the segment`);
        continue;
      }
      try {
        const result = await handleDepartures({
          plan, store, objectId: opened.objectId, log, dryRun: dryRun ?? false,
          openWriter: async (how) => (pipeline.removalWriter = await opened.openRemovalWriter(how)),
        });
        const removed = plan.onRemoval === 'ignore' || dryRun ? undefined : { how: plan.onRemoval, count: result.handled };
        this.counts.departed(plan.origin, result.left, removed);
      } catch (error) {
        this.stop(error);
        return;
      }
    }
  }

  /** Rejected rows are reported and the run goes on; but a stream none of whose rows landed is a failed run. */
  private failIfAllRejected(): void {
    for (const pipeline of this.pipelines.values()) {
      const { plan } = pipeline;
      const counts = this.counts.byTarget.get(plan.origin);
      const first = this.firstRejection.get(plan.origin);
      if (!counts || !first || this.rowsThatCount(pipeline) > 0) continue;
      const { code, field, message } = first.rejection;
      this.stop(configError(`${targetLabel(plan)}: all ${counts.rejected} row(s) were rejected, so nothing was written `
        + `(first: line ${first.line}, ${code}${field ? ` [${field}]` : ''}: ${message}); see the rejected rows for the others`, { code: 'all_rows_rejected' }));
      return;
    }
  }

  /** The rows of a plan that were not rejected nor replaced by a later row of their key. */
  private rowsThatCount(pipeline: Pipeline): number {
    const counts = this.counts.byTarget.get(pipeline.plan.origin);
    return counts ? counts.received - counts.rejected - pipeline.superseded : 0;
  }

  private reportSuperseded(): void {
    for (const { plan, superseded } of this.pipelines.values()) {
      if (superseded > 0) this.options.log.info(`${targetLabel(plan)}: ${superseded} row(s) were superseded by a later row of the same key in this run (counted as skipped)`);
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
