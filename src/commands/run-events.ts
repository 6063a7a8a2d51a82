// Turns what a CRM module reports during a command into output, in the run's protocol: a rotated
// refresh token becomes a config the next run finds; throttling becomes a stream status.
import type { Config } from '../config/spec.js';
import type { DestinationEvents } from '../crm/destination.js';
import { protectSecrets, type CommandContext } from './context.js';
import type { OutputProtocol } from '../protocol/output-protocol.js';
import type { StreamStatuses } from './stream-status.js';

export interface RunEventsOptions {
  config: Config;
  protocol: OutputProtocol;
  statuses?: StreamStatuses;
}

export function runEvents(context: CommandContext, options: RunEventsOptions): DestinationEvents {
  let config = options.config;
  return {
    credentialsRotated(crm) {
      config = { ...config, crm };
      protectSecrets(context, config);
      options.protocol.configRotated({ ...config }, crm.type);
    },
    rateLimited(until) {
      options.statuses?.rateLimited(until);
    },
  };
}
