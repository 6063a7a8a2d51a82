// What every handler may use: the org, the configured API version, and timing settings.
import type { Org } from './org.js';

export interface EmulatorContext {
  org: Org;
  apiVersion: string;
  /** /services/data/vXX.X, the prefix of every API path. */
  dataPath: string;
  bulkProcessingDelayMs: number;
}
