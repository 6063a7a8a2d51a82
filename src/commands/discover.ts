import { loadConfig } from '../config/validate.js';
import { protectSecrets, type CommandContext } from './context.js';
import { outputProtocol } from '../protocol/output-protocol.js';
import { runEvents } from './run-events.js';

export async function discoverCommand(context: CommandContext, configPath: string): Promise<void> {
  const config = loadConfig(configPath);
  protectSecrets(context, config);
  const destination = await context.deps.createDestination(config, context.log, runEvents(context, { config, protocol: outputProtocol('airbyte', context, configPath) }));
  try {
    await destination.verifyAccess();
    const operations = await destination.discover();
    await context.airbyte.emit({ type: 'DESTINATION_CATALOG', destination_catalog: { operations } });
  } finally {
    await destination.close();
  }
}
