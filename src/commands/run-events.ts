// Turns what a CRM module reports during a command into output: a rotated refresh token becomes
// an Airbyte CONTROL message (the platform stores the new config) or, for Singer and plain runs,
// an update of the config file; throttling becomes a stream status.
import { renameSync, writeFileSync } from 'node:fs';
import type { Config } from '../config/spec.js';
import type { DestinationEvents } from '../crm/destination.js';
import { protectSecrets, type CommandContext } from './context.js';
import type { StreamStatuses } from './stream-status.js';

export interface RunEventsOptions {
  config: Config;
  configPath: string;
  /** Airbyte commands answer with messages; the Singer target keeps its config file current. */
  output: 'airbyte' | 'singer';
  statuses?: StreamStatuses;
}

export function runEvents(context: CommandContext, options: RunEventsOptions): DestinationEvents {
  let config = options.config;
  return {
    credentialsRotated(crm) {
      config = { ...config, crm };
      protectSecrets(context, config);
      if (options.output === 'airbyte') {
        void context.airbyte.configUpdate({ ...config });
        context.log.info(`${crm.type} issued a new refresh token; the updated config went to Airbyte`);
        return;
      }
      rewriteConfigFile(options.configPath, config);
      context.log.warn(`${crm.type} issued a new refresh token; ${options.configPath} now holds it (the old one may stop working)`);
    },
    rateLimited(until) {
      options.statuses?.rateLimited(until);
    },
  };
}

/** Written beside and renamed over the old file, so a crash never leaves half a config. */
function rewriteConfigFile(path: string, config: Config): void {
  const staging = `${path}.${process.pid}.tmp`;
  writeFileSync(staging, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  renameSync(staging, path);
}
