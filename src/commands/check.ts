// check: the config is valid, the credentials work, every object exists and every mapping is
// writable, the state store can be written and locked. All problems are reported at once, each
// naming the field at fault.
import { loadConfig } from '../config/validate.js';
import { resolveStreamPlans } from '../config/stream-plan.js';
import type { Config } from '../config/spec.js';
import { unfindableCreateWarnings } from '../engine/create-journal.js';
import { asConnectorError } from '../errors.js';
import type { Logger } from '../protocol/log.js';
import { PostgresStore } from '../store/postgres-store.js';
import { StateStore } from '../store/state-store.js';
import type { ChangeStore } from '../store/store.js';
import { DEFAULT_STATE_PATH } from '../store/snapshot.js';
import { protectSecrets, type CommandContext } from './context.js';
import { openObject } from './open-object.js';
import { outputProtocol } from '../protocol/output-protocol.js';
import { runEvents } from './run-events.js';

export async function checkCommand(context: CommandContext, configPath: string): Promise<void> {
  const problems = await findProblems(context, configPath);
  const connectionStatus = problems.length === 0
    ? { status: 'SUCCEEDED' as const }
    : { status: 'FAILED' as const, message: context.log.redactor.redact(problems.join('\n')) };
  if (problems.length > 0) context.log.error(`check failed:\n  ${problems.join('\n  ')}`);
  await context.airbyte.emit({ type: 'CONNECTION_STATUS', connectionStatus });
}

async function findProblems(context: CommandContext, configPath: string): Promise<string[]> {
  let destination;
  try {
    const config = loadConfig(configPath);
    protectSecrets(context, config);
    const { plans } = resolveStreamPlans(config);
    unfindableCreateWarnings(plans).forEach((warning) => context.log.warn(warning));
    const problems: string[] = [];
    const storeProblem = await checkStore(config, context.log);
    if (storeProblem) problems.push(storeProblem);
    destination = await context.deps.createDestination(config, context.log, runEvents(context, { config, protocol: outputProtocol('airbyte', context, configPath) }));
    await destination.verifyAccess();
    for (const plan of plans) {
      const opened = await openObject(destination, plan, config);
      for (const problem of opened.problems) problems.push(`${plan.origin}: ${problem.message}`);
    }
    return problems;
  } catch (error) {
    return [asConnectorError(error).message];
  } finally {
    await destination?.close();
  }
}

/**
 * The store a sync will use, proven as the sync uses it: its folder and file (or its PostgreSQL
 * schema and tables) made if needed, opened for writing, its lock taken and released. A run
 * holding the lock is no problem.
 */
async function checkStore(config: Config, log: Logger): Promise<string | undefined> {
  if (config.change_detection === 'off' || config.change_detection === 'crm') return undefined;
  const url = config.state?.url;
  let store: ChangeStore | undefined;
  try {
    store = url ? await PostgresStore.open(url) : new StateStore(config.state?.path ?? DEFAULT_STATE_PATH);
    await store.acquireRunLock();
    await store.finishRun('checked');
    return undefined;
  } catch (error) {
    const failure = asConnectorError(error);
    if (failure.code !== 'store_locked') return `${url ? 'state.url' : 'state.path'}: ${failure.message}`;
    log.warn(`${failure.message} (check leaves it alone)`);
    return undefined;
  } finally {
    await store?.close();
  }
}
