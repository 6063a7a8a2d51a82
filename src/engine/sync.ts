// The sync loop: read → route to a stream plan → map → convert → batch → write → settle →
// release states. It knows CRMs only through ObjectWriter and the outside only through callbacks.
import type { InputMessage, Protocol } from '../protocol/input.js';
import type { ResolvedPlans, StreamPlan } from '../config/stream-plan.js';
import type { ObjectWriter, Rejection, RowOutcome, Values } from '../crm/destination.js';
import { asConnectorError, bugError, type ConnectorError } from '../errors.js';
import type { Logger } from '../protocol/log.js';
import { Checkpoints, GLOBAL_SCOPE, type ReleasedState } from './checkpoints.js';
import { RunCounts, type FinalStatus } from './counts.js';
import { mapRow } from './mapping.js';
import { StreamSink, type SinkItem } from './stream-sink.js';

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

export interface SyncOptions {
  plans: ResolvedPlans;
  writers: ReadonlyMap<StreamPlan, ObjectWriter>;
  log: Logger;
  releaseState(state: ReleasedState<StateMessage>): Promise<void>;
  onRejected?(record: RejectedRecord): void;
  /** A partial batch older than this goes out without waiting to fill. */
  idleFlushMs?: number;
}

export interface SyncResult {
  counts: RunCounts;
  fatal?: ConnectorError;
  statesPending: number;
}

/** Where records that no plan consumes are counted. */
export const UNROUTED = '(unrouted)';

export async function runSync(input: AsyncIterable<InputMessage>, options: SyncOptions): Promise<SyncResult> {
  return new SyncRun(options).run(input);
}

class SyncRun {
  private readonly checkpoints = new Checkpoints<StateMessage>();
  private readonly counts = new RunCounts();
  private readonly sinks = new Map<StreamPlan, StreamSink>();
  private readonly ignoredColumns = new Map<StreamPlan, Set<string>>();
  private fatal?: ConnectorError;
  private releasing: Promise<void> = Promise.resolve();

  constructor(private readonly options: SyncOptions) {
    for (const [plan, writer] of options.writers) {
      this.sinks.set(plan, new StreamSink(writer, {
        settled: (items, outcomes) => this.onWritten(plan, items, outcomes),
        failed: (items, error) => this.onWriteFailed(plan, items, error),
      }));
      this.ignoredColumns.set(plan, new Set());
    }
  }

  async run(input: AsyncIterable<InputMessage>): Promise<SyncResult> {
    const idleMs = this.options.idleFlushMs ?? 1000;
    const timer = setInterval(() => this.sinks.forEach((sink) => sink.flushIfIdle(idleMs)), Math.max(50, idleMs / 2));
    timer.unref();
    try {
      for await (const message of input) {
        await this.handle(message);
        if (this.fatal) break;
      }
    } catch (error) {
      this.stop(error);
    } finally {
      clearInterval(timer);
    }
    await this.finish();
    this.warnIgnoredColumns();
    return { counts: this.counts, fatal: this.fatal, statesPending: this.checkpoints.pendingStateCount };
  }

  private async handle(message: InputMessage): Promise<void> {
    switch (message.kind) {
      case 'record':
        return this.handleRecord(message);
      case 'state':
        this.checkpoints.receiveState(stateScope(message.body, message.protocol), { protocol: message.protocol, body: message.body });
        return this.releaseStates();
      case 'invalid': {
        const seq = this.checkpoints.receiveRecord([GLOBAL_SCOPE]);
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

  private async handleRecord(message: Extract<InputMessage, { kind: 'record' }>): Promise<void> {
    const scopes = message.stream === undefined ? [GLOBAL_SCOPE] : [GLOBAL_SCOPE, streamScope(message.stream, message.namespace)];
    const seq = this.checkpoints.receiveRecord(scopes);
    const plan = this.options.plans.planFor(message.stream);
    const target = plan?.origin ?? UNROUTED;
    this.counts.received(target);
    const rejected = (rejection: Rejection, key?: string) => {
      this.reject(seq, target, { line: message.line, stream: message.stream, key, data: message.data, rejection });
      return this.releaseStates();
    };
    if (!plan) {
      const name = message.stream ?? '(bare rows)';
      return rejected({ code: 'unknown_stream', message: `no sync configuration consumes stream "${name}"` });
    }
    const writer = this.options.writers.get(plan)!;
    const sink = this.sinks.get(plan)!;
    const mapped = mapRow(message.data, plan, writer, this.ignoredColumns.get(plan));
    if (!mapped.ok) return rejected(mapped.rejection);
    const { key } = mapped.row;
    const earlierLine = sink.lineOfUnsettledKey(key);
    if (earlierLine !== undefined) {
      return rejected({ code: 'duplicate_key', field: plan.match.source, message: `key "${key}" already came on line ${earlierLine} of this run` }, key);
    }
    const prepared = writer.prepare(mapped.row);
    if (!prepared.ok) return rejected(prepared.rejection, key);
    await sink.add({ seq, line: message.line, data: message.data, write: { key, values: prepared.values } });
  }

  private onWritten(plan: StreamPlan, items: SinkItem[], outcomes: RowOutcome[]): void {
    if (outcomes.length !== items.length) {
      this.stop(bugError(`${plan.origin}: the CRM writer returned ${outcomes.length} outcomes for ${items.length} rows`));
      return;
    }
    items.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome.status === 'rejected') {
        const { status: _status, ...rejection } = outcome;
        this.reject(item.seq, plan.origin, { line: item.line, stream: plan.stream, key: item.write.key, data: item.data, rejection });
      } else {
        this.settle(item.seq, plan.origin, outcome.status);
      }
    });
    void this.releaseStates();
  }

  private onWriteFailed(plan: StreamPlan, items: SinkItem[], error: unknown): void {
    const failure = asConnectorError(error);
    if (failure.category !== 'record') {
      // The rows stay unsettled, so no state after them is released: the rerun resends them.
      this.stop(failure);
      return;
    }
    const rejection = { code: failure.code ?? 'rejected', message: failure.message, field: failure.field };
    for (const item of items) {
      this.reject(item.seq, plan.origin, { line: item.line, stream: plan.stream, key: item.write.key, data: item.data, rejection });
    }
    void this.releaseStates();
  }

  private settle(seq: number, target: string, status: FinalStatus): void {
    this.counts.settled(target, status);
    this.checkpoints.settle(seq, false);
  }

  private reject(seq: number, target: string, record: RejectedRecord): void {
    this.counts.settled(target, 'rejected');
    this.checkpoints.settle(seq, true);
    this.options.onRejected?.(record);
  }

  private stop(error: unknown): void {
    this.fatal ??= asConnectorError(error);
  }

  /** Emits releasable states one after another, in the order they arrived. */
  private releaseStates(): Promise<void> {
    this.releasing = this.releasing.then(async () => {
      for (const state of this.checkpoints.takeReleasable()) await this.options.releaseState(state);
    });
    return this.releasing;
  }

  private async finish(): Promise<void> {
    const sinks = [...this.sinks.values()];
    if (this.fatal) await Promise.all(sinks.map((sink) => sink.settleInFlight()));
    else await Promise.all(sinks.map((sink) => sink.drain()));
    await this.releaseStates();
  }

  private warnIgnoredColumns(): void {
    for (const [plan, columns] of this.ignoredColumns) {
      if (columns.size > 0) {
        this.options.log.warn(`${plan.origin}: columns with no writable field of ${plan.object} were not sent: ${[...columns].sort().join(', ')}`);
      }
    }
  }
}

function streamScope(stream: string, namespace?: string): string {
  return `stream:${namespace ?? ''}:${stream}`;
}

/** Airbyte per-stream states count their stream's records; every other kind counts all records. */
function stateScope(body: Record<string, unknown>, protocol: Protocol): string {
  if (protocol !== 'airbyte' || body.type !== 'STREAM') return GLOBAL_SCOPE;
  const descriptor = (body.stream as { stream_descriptor?: { name?: unknown; namespace?: unknown } } | undefined)?.stream_descriptor;
  if (typeof descriptor?.name !== 'string') return GLOBAL_SCOPE;
  return streamScope(descriptor.name, typeof descriptor.namespace === 'string' ? descriptor.namespace : undefined);
}
