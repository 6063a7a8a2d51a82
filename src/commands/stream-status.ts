// Airbyte stream statuses (TRACE STREAM_STATUS) for the streams a write run consumes: STARTED when
// the run begins, RUNNING with the first record, RUNNING with a RATE_LIMITED reason while the CRM
// throttles us, then COMPLETE, or INCOMPLETE when the run stopped early.
import type { StreamDescriptor } from '../protocol/messages.js';
import type { OutputProtocol } from '../protocol/output-protocol.js';

/** Rate-limit statuses closer together than this say nothing new. */
const RATE_LIMIT_REPORT_GAP_MS = 1000;

export class StreamStatuses {
  private readonly running = new Set<string>();
  private rateLimitedUntil = 0;

  constructor(
    private readonly protocol: OutputProtocol,
    private readonly streams: StreamDescriptor[],
  ) {}

  started(): void {
    for (const stream of this.streams) this.protocol.streamStatus(stream, 'STARTED');
  }

  /** A record of this stream arrived; the first one marks it running. */
  recordOf(name: string | undefined, namespace: string | undefined): void {
    // Called for every record: once every stream runs there is nothing left to look up.
    if (name === undefined || this.running.size === this.streams.length) return;
    const id = `${namespace ?? ''}\u0000${name}`;
    if (this.running.has(id)) return;
    const stream = this.streams.find((s) => s.name === name && (s.namespace ?? undefined) === namespace);
    if (!stream) return;
    this.running.add(id);
    this.protocol.streamStatus(stream, 'RUNNING');
  }

  rateLimited(until: number): void {
    if (until < this.rateLimitedUntil + RATE_LIMIT_REPORT_GAP_MS) return;
    this.rateLimitedUntil = until;
    for (const stream of this.streams) {
      this.protocol.streamStatus(stream, 'RUNNING', [{ type: 'RATE_LIMITED', rate_limited: { quota_reset: until } }]);
    }
  }

  finished(complete: boolean): void {
    for (const stream of this.streams) this.protocol.streamStatus(stream, complete ? 'COMPLETE' : 'INCOMPLETE');
  }
}
