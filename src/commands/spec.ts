import { configSchema } from '../config/spec.js';
import { AIRBYTE_PROTOCOL_VERSION, type DestinationSyncMode } from '../protocol/messages.js';
import type { CommandContext } from './context.js';

export const SUPPORTED_SYNC_MODES: DestinationSyncMode[] = ['append', 'append_dedup', 'update', 'soft_delete', 'overwrite'];
export const DOCUMENTATION_URL = 'https://github.com/crm-activate/crm-activate#readme';

export async function specCommand(context: CommandContext): Promise<void> {
  await context.airbyte.emit({
    type: 'SPEC',
    spec: {
      documentationUrl: DOCUMENTATION_URL,
      connectionSpecification: configSchema,
      supportsIncremental: true,
      supported_destination_sync_modes: SUPPORTED_SYNC_MODES,
      protocol_version: AIRBYTE_PROTOCOL_VERSION,
    },
  });
}
