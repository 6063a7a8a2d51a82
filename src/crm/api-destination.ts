// What every CRM's Destination does the same way through its API door: count its requests for the
// run report, stop retrying when the run stops, and close (requests hold nothing open: each is one
// fetch, and a session ends with the process).
import type { StopReason } from './destination.js';
import type { CrmHttpClient } from './http/client.js';

export abstract class ApiDestination<Api extends CrmHttpClient & { requestCount: number }> {
  constructor(readonly api: Api) {}

  requestCount(): number {
    return this.api.requestCount;
  }

  stopRetrying(why: StopReason): void {
    this.api.stopRetrying(why);
  }

  async close(): Promise<void> {}
}
