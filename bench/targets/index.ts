// The CRMs the benchmark can run against, by crm.type: a BenchTarget each (config, batch size,
// minimum calls), with its EmulatorAdapter in emulators.ts.
import type { BenchTarget } from '../target.js';
import { hubspot } from './hubspot.js';
import { salesforce } from './salesforce.js';

export const TARGETS: Record<string, BenchTarget> = { hubspot, salesforce };
