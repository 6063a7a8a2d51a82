// write (Airbyte) and the Singer target: the same run, told apart only by its output protocol,
// chosen once here. Opens every object first so a bad mapping fails before any row is read.
import { loadConfig } from '../config/validate.js';
import { loadCatalog, resolveStreamPlans, type ConfiguredStream, type ResolvedPlans, type StreamPlan } from '../config/stream-plan.js';
import type { Config } from '../config/spec.js';
import type { Destination, ObjectWriter } from '../crm/destination.js';
import { asConnectorError, configError, EXIT_FAILED } from '../errors.js';
import { readInput, type InputFormat } from '../protocol/input.js';
import { RejectedRowsFile, type RejectedRecord } from '../protocol/rejected-file.js';
import { outputProtocol, type OutputProtocol, type OutputProtocolName } from '../protocol/output-protocol.js';
import { runSync, type OpenedPlan, type Progress, type SyncResult } from '../engine/sync.js';
import { StateStore } from '../store/state-store.js';
import { PostgresStore } from '../store/postgres-store.js';
import type { ChangeStore } from '../store/store.js';
import { settleEarlierCreates, unfindableCreateWarnings } from '../engine/create-journal.js';
import { DEFAULT_STATE_PATH, scratchStore, snapshotOf, type TemporaryStore } from '../store/snapshot.js';
import { protectSecrets, type CommandContext } from './context.js';
import { openObject } from './open-object.js';
import { runEvents } from './run-events.js';
import { StreamStatuses } from './stream-status.js';
import type { StreamDescriptor } from '../protocol/messages.js';
import { buildReport, postWebhook, RejectionTally, rejectionWarning, writeReport, type RunReport } from './run-report.js';
import { formatPlannedChanges, formatRunSummary } from './run-summary.js';

export interface WriteArgs {
  config: string;
  catalog?: string;
  inputFormat: InputFormat;
  output: OutputProtocolName;
  dryRun?: boolean;
  fullResync?: boolean;
  complete?: boolean;
  report?: string;
  /** How often progress is reported while the run goes on. */
  progressEveryMs?: number;
}

export async function writeCommand(context: CommandContext, args: WriteArgs): Promise<void> {
  let destination: Destination | undefined;
  let statuses: StreamStatuses | undefined;
  const protocol = outputProtocol(args.output, context, args.config);
  try {
    const config = loadConfig(args.config);
    protectSecrets(context, config);
    const catalog = args.catalog ? loadCatalog(args.catalog) : [];
    const resolved = resolveStreamPlans(config, catalog);
    statuses = new StreamStatuses(protocol, streamsOf(catalog, resolved.plans));
    destination = await context.deps.createDestination(config, context.log, runEvents(context, { config, protocol, statuses }));
    statuses.started();
    await runWrite(context, args, protocol, config, resolved, destination, statuses);
    statuses.finished(true);
  } catch (error) {
    statuses?.finished(false);
    await protocol.fatal(asConnectorError(error));
    process.exitCode = EXIT_FAILED;
  } finally {
    await destination?.close();
  }
}

/** The streams a run reports on: the catalog's, else the ones the config names. */
function streamsOf(catalog: ConfiguredStream[], plans: StreamPlan[]): StreamDescriptor[] {
  if (catalog.length > 0) return catalog.map(({ name, namespace }) => (namespace === undefined ? { name } : { name, namespace }));
  return plans.flatMap((plan) => (plan.stream ? [{ name: plan.stream }] : []));
}

async function runWrite(context: CommandContext, args: WriteArgs, protocol: OutputProtocol, config: Config, resolved: ResolvedPlans, destination: Destination, statuses: StreamStatuses): Promise<void> {
  resolved.warnings.forEach((warning) => context.log.warn(warning));
  unfindableCreateWarnings(resolved.plans).forEach((warning) => context.log.warn(warning));
  const dryRun = args.dryRun || config.dry_run === true;
  const stop = new AbortController();
  // The store before any CRM call: a run that may not use it must not touch the CRM either.
  const { store, temporary } = config.change_detection === 'off' ? {} : await openStore(context, config, dryRun, stop);
  let opened: Map<StreamPlan, OpenedPlan>;
  try {
    await destination.verifyAccess();
    opened = await openPlans(destination, resolved.plans, config);
    if (store && !dryRun) await settleEarlierCreates(store, opened, context.log, stop.signal);
  } catch (error) {
    await store?.close();
    temporary?.remove();
    throw error;
  }
  const rejectedFile = config.rejected_records_path ? new RejectedRowsFile(config.rejected_records_path, context.log.redactor) : undefined;
  const tally = new RejectionTally();
  const log = rejectionLogger(context);
  const started = new Date();
  // SIGTERM (orchestrators) and SIGINT (Ctrl-C) stop reading; a second one ends the process at once.
  const onSignal = (signal: NodeJS.Signals) => {
    context.log.warn(`${signal}: finishing the requests under way (no more retries), then stopping (send it again to stop at once)`);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    stop.abort(signal);
    destination.stopRetrying('signal');
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const progress = progressReporter(context, protocol);
  let result: SyncResult;
  try {
    result = await runSync(readInput(context.deps.stdin, args.inputFormat), {
      plans: resolved,
      opened,
      log: context.log,
      releaseState: (state) => protocol.state(state.body, state.counts),
      onRejected: (record) => {
        tally.add(record);
        rejectedFile?.write(record);
        log(record);
      },
      store,
      compareWithCrm: config.change_detection === 'crm',
      dryRun,
      fullResync: args.fullResync,
      completeSegment: args.complete || config.complete_segment === true,
      stopSignal: stop.signal,
      onStopping: () => destination.stopRetrying('failure'),
      onProgress: (update) => progress.report(update),
      progressIntervalMs: args.progressEveryMs,
      onRecord: (stream, namespace) => statuses.recordOf(stream, namespace),
    });
    try {
      await store?.finishRun(result.fatal ? 'failed' : 'succeeded');
    } catch (error) {
      // A run that already failed (a full disk) reports that failure, with its counts.
      if (!result.fatal) throw error;
    }
  } finally {
    progress.clear();
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    // Done reading, whatever the source still sends: an open stdin must not keep the process alive.
    context.deps.stdin.destroy();
    await store?.close();
    temporary?.remove();
    await rejectedFile?.close();
  }
  const report = buildReport({ counts: result.counts, started, dryRun, tally, apiCalls: destination.requestCount(), apiCallsByObject: result.apiCalls, error: result.fatal?.message });
  context.log.info(formatRunSummary(result.counts, report.duration_ms, dryRun, result.apiCalls, destination.requestCount(), result.labels));
  if (dryRun) context.log.info(formatPlannedChanges(result.planned));
  if (rejectedFile && rejectedFile.count > 0) context.log.info(`${rejectedFile.count} rejected row(s) written to ${rejectedFile.path}`);
  if (result.fatal) {
    if (result.statesPending > 0) context.log.warn(`${result.statesPending} state message(s) held back: the records before them were not all committed`);
    if (args.report) writeReport(args.report, report, context.log.redactor);
    throw result.fatal;
  }
  await judgeWarnings(context, args, config, report);
}

/** Above the rejection threshold the run fails after writing what it could, naming the top reasons. */
async function judgeWarnings(context: CommandContext, args: WriteArgs, config: Config, report: RunReport): Promise<void> {
  const warning = rejectionWarning(report, config);
  if (warning) {
    report.status = 'warning';
    report.warning = warning;
  }
  if (args.report) writeReport(args.report, report, context.log.redactor);
  if (!warning) return;
  const webhook = config.warnings?.webhook_url;
  if (webhook) {
    await postWebhook(webhook, report, warning, context.log.redactor).catch((error: Error) => context.log.warn(`the warning webhook failed: ${error.message}`));
  }
  throw configError(warning, { code: 'too_many_rejections' });
}

/**
 * A dry run must not change the store: it works on a copy. Comparing with the CRM, the run keeps
 * a store of its own that dies with it, only to catch a key repeated in the input. state.url
 * names a PostgreSQL store, which takes the place of the file.
 */
async function openStore(context: CommandContext, config: Config, dryRun: boolean, stop: AbortController): Promise<{ store: ChangeStore; temporary?: TemporaryStore }> {
  const path = config.state?.path ?? DEFAULT_STATE_PATH;
  if (config.change_detection === 'crm') {
    const temporary = scratchStore();
    return { store: new StateStore(temporary.path, { scratch: true }), temporary };
  }
  const url = config.state?.url;
  if (dryRun && url) return { store: await PostgresStore.open(url, { copy: true }) };
  if (dryRun) {
    const temporary = snapshotOf(path);
    return { store: new StateStore(temporary.path, { copyOf: path }), temporary };
  }
  const store = url ? await PostgresStore.open(url) : new StateStore(path);
  try {
    // A run that lost the lock stops like an interrupted one: what it wrote is committed.
    const takenOver = await store.acquireRunLock((message) => {
      context.log.error(`${message}: stopping`);
      stop.abort('the state store lock was lost');
    });
    if (takenOver) context.log.warn(`the state store at ${store.path} was held by a run that is gone (${takenOver}); taken over`);
  } catch (error) {
    await store.close();
    throw error;
  }
  return { store };
}

async function openPlans(destination: Destination, plans: StreamPlan[], config: Config): Promise<Map<StreamPlan, OpenedPlan>> {
  const opened = new Map<StreamPlan, OpenedPlan>();
  const problems: string[] = [];
  for (const plan of plans) {
    const object = await openObject(destination, plan, config);
    problems.push(...object.problems.map((problem) => `${plan.origin}: ${problem.message}`));
    if (!object.writer || !object.objectId) continue;
    if (problems.length === 0) await object.writer.start();
    opened.set(plan, {
      writer: object.writer,
      objectId: object.objectId,
      openRemovalWriter: (how) => openRemovalWriter(destination, plan, how),
    });
  }
  if (problems.length > 0) throw configError(problems.join('; '), { code: 'invalid_mapping' });
  return opened;
}

/** Rows that left the segment are matched by the CRM record id the store kept for them. */
async function openRemovalWriter(destination: Destination, plan: StreamPlan, how: 'clear' | 'archive'): Promise<ObjectWriter> {
  const removal: StreamPlan = { ...plan, operation: how === 'clear' ? 'update' : 'archive', match: { source: plan.match.source, destination: destination.recordIdField } };
  const opened = await destination.open(removal);
  if (!opened.writer || opened.problems.length > 0) {
    throw configError(`${plan.origin}: cannot ${how} records that left the segment: ${opened.problems.map((p) => p.message).join('; ')}`);
  }
  await opened.writer.start();
  return opened.writer;
}

/** A live line on a terminal; otherwise the protocol's progress report (an Airbyte LOG, a stderr line). */
function progressReporter(context: CommandContext, protocol: OutputProtocol): { report(progress: Progress): void; clear(): void } {
  const terminal = (context.deps.stderr as { isTTY?: boolean }).isTTY === true;
  let lineShown = false;
  return {
    report({ read, settled, elapsedMs }) {
      const rate = elapsedMs > 0 ? Math.round((settled / elapsedMs) * 1000) : 0;
      const text = `${read} rows read, ${settled} done, ${rate} rows/s`;
      if (terminal) {
        context.deps.stderr.write(`\r${text}\u001b[K`);
        lineShown = true;
      } else {
        protocol.progress(text);
      }
    },
    /** The live line gives way to the summary. */
    clear() {
      if (lineShown) context.deps.stderr.write('\r\u001b[K');
    },
  };
}

const REJECTIONS_LOGGED = 20;

function rejectionLogger(context: CommandContext): (record: RejectedRecord) => void {
  let logged = 0;
  return (record) => {
    logged += 1;
    if (logged > REJECTIONS_LOGGED) return;
    const { rejection } = record;
    const from = record.origin ? ` (${record.origin.file} line ${record.origin.line})` : '';
    const where = `line ${record.line}${from}${record.key !== undefined ? ` (key ${record.key})` : ''}`;
    const field = rejection.field ? ` [${rejection.field}]` : '';
    context.log.warn(`rejected ${where}: ${rejection.code}${field}: ${rejection.message}`);
    if (logged === REJECTIONS_LOGGED) context.log.warn('further rejections are counted but not logged');
  };
}
