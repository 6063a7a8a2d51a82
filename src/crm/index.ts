// Picks the CRM module the config names. Each is loaded only when a run needs it: their API
// clients take most of the start-up time, and `spec` or `--about` need neither.
import type { DestinationFactory } from './destination.js';

export const createCrmDestination: DestinationFactory = async (config, log, events) => {
  switch (config.crm.type) {
    case 'hubspot': {
      const { HubSpotDestination } = await import('./hubspot/destination.js');
      return new HubSpotDestination(config.crm, log, events);
    }
    case 'salesforce': {
      const { SalesforceDestination } = await import('./salesforce/destination.js');
      return new SalesforceDestination(config.crm, log, events);
    }
  }
};
