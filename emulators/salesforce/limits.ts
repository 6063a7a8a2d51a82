// The org's daily API allowance: every authenticated REST call counts, answers carry
// Sforce-Limit-Info, and once the allowance is spent calls are refused until the day rolls over
// (which, in a test run, it never does).
import { ApiError } from './errors.js';

export class ApiUsage {
  private used = 0;

  constructor(readonly max: number) {}

  get count(): number {
    return this.used;
  }

  /** Counts one call, or refuses it when the allowance is spent (a refused call does not count). */
  consume(): void {
    if (this.used >= this.max) throw new ApiError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    this.used += 1;
  }

  header(): string {
    return `api-usage=${this.used}/${this.max}`;
  }

  /** GET /limits: the allowance that matters here, and a few others at their usual defaults. */
  limitsBody(): Record<string, { Max: number; Remaining: number }> {
    return {
      DailyApiRequests: { Max: this.max, Remaining: Math.max(0, this.max - this.used) },
      DailyBulkApiBatches: { Max: 15000, Remaining: 15000 },
      DailyBulkV2QueryFileStorageMB: { Max: 976562, Remaining: 976562 },
      DailyBulkV2QueryJobs: { Max: 10000, Remaining: 10000 },
      DataStorageMB: { Max: 5, Remaining: 5 },
      FileStorageMB: { Max: 20, Remaining: 20 },
    };
  }
}
