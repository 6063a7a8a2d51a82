import { loadConfig } from '../config/validate.js';
import { protectSecrets, type CommandContext } from './context.js';
import { outputProtocol } from '../protocol/output-protocol.js';
import { runEvents } from './run-events.js';
import { resolveStreamPlans } from '../config/stream-plan.js';
import { configError } from '../errors.js';
import type { Destination } from '../crm/destination.js';
import type { Config } from '../config/spec.js';

export async function discoverCommand(context: CommandContext, configPath: string): Promise<void> {
  const config = loadConfig(configPath);
  protectSecrets(context, config);
  const destination = await context.deps.createDestination(config, context.log, runEvents(context, { config, protocol: outputProtocol('airbyte', context, configPath) }));
  try {
    await destination.verifyAccess();
    const operations = await destination.discover();
    await refuseBadAssociations(destination, config);
    await context.airbyte.emit({ type: 'DESTINATION_CATALOG', destination_catalog: { operations } });
  } finally {
    await destination.close();
  }
}

/**
 * Associations name objects, keys and labels the catalog does not show: a config naming ones the
 * portal lacks fails here too, naming them, rather than only at check or at the first write.
 */
async function refuseBadAssociations(destination: Destination, config: Config): Promise<void> {
  const problems: string[] = [];
  for (const plan of resolveStreamPlans(config).plans) {
    if (!plan.associations?.length) continue;
    const opened = await destination.open(plan);
    problems.push(...opened.problems.map((problem) => `${plan.origin}: ${problem.message}`));
  }
  if (problems.length > 0) throw configError(problems.join('; '), { code: 'invalid_mapping' });
}
