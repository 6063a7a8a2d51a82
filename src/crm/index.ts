// Picks the CRM module the config names.
import type { DestinationFactory } from '../commands/context.js';
import { HubSpotDestination } from './hubspot/destination.js';
import { SalesforceDestination } from './salesforce/destination.js';

export const createCrmDestination: DestinationFactory = (config, log, events) => {
  switch (config.crm.type) {
    case 'hubspot':
      return new HubSpotDestination(config.crm, log, events);
    case 'salesforce':
      return new SalesforceDestination(config.crm, log, events);
  }
};
