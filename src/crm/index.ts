// Picks the CRM module the config names.
import type { DestinationFactory } from '../commands/context.js';
import { configError } from '../errors.js';
import { HubSpotDestination } from './hubspot/destination.js';

export const createCrmDestination: DestinationFactory = (config, log, events) => {
  switch (config.crm.type) {
    case 'hubspot':
      return new HubSpotDestination(config.crm, log, events);
    default:
      throw configError(`the ${config.crm.type} destination is not available yet`);
  }
};
