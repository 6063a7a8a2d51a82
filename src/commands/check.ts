// check: the config is valid, the credentials work, every object exists and every mapping is
// writable. All problems are reported at once, each naming the field at fault.
import { loadConfig } from '../config/validate.js';
import { resolveStreamPlans } from '../config/stream-plan.js';
import { asConnectorError } from '../errors.js';
import { protectSecrets, type CommandContext } from './context.js';
import { openObject } from './open-object.js';
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
    destination = await context.deps.createDestination(config, context.log, runEvents(context, { config, configPath, output: 'airbyte' }));
    await destination.verifyAccess();
    const problems: string[] = [];
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
