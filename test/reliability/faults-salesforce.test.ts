// The fault storm (faults.ts) against Salesforce.
import { salesforceScenario } from './crm-scenarios.ts';
import { faultTests } from './faults.ts';

faultTests(salesforceScenario);
