// Picks the CRM module the config names.
import type { DestinationFactory } from '../commands/context.js';
import { configError } from '../errors.js';

export const createCrmDestination: DestinationFactory = (config) => {
  throw configError(`the ${config.crm.type} destination is not available yet`);
};
