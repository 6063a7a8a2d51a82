// The fault storm (faults.ts) against HubSpot.
import { hubspotScenario } from './crm-scenarios.ts';
import { faultTests } from './faults.ts';

faultTests(hubspotScenario);
