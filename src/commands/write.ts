// write (Airbyte) and the Singer target: the same run, told apart only by how states and fatal
// errors go back out. Opens every object first so a bad mapping fails before any row is read.
import { loadConfig } from '../config/validate.js';
import { loadCatalog, resolveStreamPlans, type StreamPlan } from '../config/stream-plan.js';
import type { Config } from '../config/spec.js';
import type { Destination, ObjectWriter } from '../crm/destination.js';
import { asConnectorError, configError, failureTypeOf, type ConnectorError } from '../errors.js';
import { readInput, type InputFormat } from '../protocol/input.js';
import type { ReleasedState } from '../engine/checkpoints.js';
import { runSync, type RejectedRecord, type StateMessage } from '../engine/sync.js';
import { protectSecrets, type CommandContext } from './context.js';
import { formatRunSummary } from './run-summary.js';

export type OutputProtocol = 'airbyte' | 'singer';

export interface WriteArgs {
  config: string;
  catalog?: string;
  inputFormat: InputFormat;
  output: OutputProtocol;
}

export const EXIT_FAILED = 1;

export async function writeCommand(context: CommandContext, args: WriteArgs): Promise<void> {
  let destination: Destination | undefined;
  try {
    const config = loadConfig(args.config);
    protectSecrets(context, config);
    destination = context.deps.createDestination(config, context.log);
    await runWrite(context, args, config, destination);
  } catch (error) {
    await reportFatal(context, args.output, asConnectorError(error));
  } finally {
    await destination?.close();
  }
}

async function runWrite(context: CommandContext, args: WriteArgs, config: Config, destination: Destination): Promise<void> {
  const catalog = args.catalog ? loadCatalog(args.catalog) : [];
  const resolved = resolveStreamPlans(config, catalog);
  resolved.warnings.forEach((warning) => context.log.warn(warning));
  await destination.verifyAccess();
  const writers = await openWriters(destination, resolved.plans);
  const started = Date.now();
  const result = await runSync(readInput(context.deps.stdin, args.inputFormat), {
    plans: resolved,
    writers,
    log: context.log,
    releaseState: (state) => emitState(context, args.output, state),
    onRejected: rejectionLogger(context),
  });
  context.log.info(formatRunSummary(result.counts, Date.now() - started));
  if (result.fatal) {
    if (result.statesPending > 0) context.log.warn(`${result.statesPending} state message(s) held back: the records before them were not all committed`);
    throw result.fatal;
  }
}

async function openWriters(destination: Destination, plans: StreamPlan[]): Promise<Map<StreamPlan, ObjectWriter>> {
  const writers = new Map<StreamPlan, ObjectWriter>();
  const problems: string[] = [];
  for (const plan of plans) {
    const opened = await destination.open(plan);
    problems.push(...opened.problems.map((problem) => `${plan.origin}: ${problem.message}`));
    if (opened.writer) writers.set(plan, opened.writer);
  }
  if (problems.length > 0) throw configError(problems.join('; '), { code: 'invalid_mapping' });
  return writers;
}

async function emitState(context: CommandContext, output: OutputProtocol, state: ReleasedState<StateMessage>): Promise<void> {
  const { protocol, body } = state.body;
  if (output === 'singer') {
    await context.lines.writeJson(protocol === 'singer' ? body.value : body);
    return;
  }
  const airbyteState = protocol === 'airbyte' ? body : { type: 'LEGACY', data: body.value };
  await context.airbyte.emit({
    type: 'STATE',
    state: {
      ...airbyteState,
      destinationStats: { recordCount: asDouble(state.counts.records), rejectedRecordCount: asDouble(state.counts.rejected) },
    },
  });
}

/** The protocol defines the counts as doubles "with a decimal point for proper serialization". */
function asDouble(count: number): unknown {
  return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(`${count}.0`);
}

const REJECTIONS_LOGGED = 20;

function rejectionLogger(context: CommandContext): (record: RejectedRecord) => void {
  let logged = 0;
  return (record) => {
    logged += 1;
    if (logged > REJECTIONS_LOGGED) return;
    const { rejection } = record;
    const where = `line ${record.line}${record.key !== undefined ? ` (key ${record.key})` : ''}`;
    const field = rejection.field ? ` [${rejection.field}]` : '';
    context.log.warn(`rejected ${where}: ${rejection.code}${field}: ${rejection.message}`);
    if (logged === REJECTIONS_LOGGED) context.log.warn('further rejections are counted but not logged');
  };
}

async function reportFatal(context: CommandContext, output: OutputProtocol, error: ConnectorError): Promise<void> {
  const message = context.log.redactor.redact(error.message);
  context.log.error(`${error.category} error: ${message}`);
  if (output === 'airbyte') {
    const cause = error.cause instanceof Error ? context.log.redactor.redact(error.cause.stack ?? error.cause.message) : undefined;
    await context.airbyte.errorTrace(message, failureTypeOf(error.category), cause);
  }
  process.exitCode = EXIT_FAILED;
}
