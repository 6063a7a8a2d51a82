// The CRMs the benchmark can run against, by crm.type. Salesforce joins here once its destination
// lands: a BenchTarget (config, batch size, minimum calls) and an EmulatorAdapter in emulators.ts.
import type { BenchTarget } from '../target.js';
import { hubspot } from './hubspot.js';

export const TARGETS: Record<string, BenchTarget> = { hubspot };
