// A sink in front of another that takes rows in chunks: it collects them, and when a chunk is
// full, the input is idle or the run drains, hands the chunk to process(), which settles some rows
// and forwards the others. The change filters (store and CRM) are built on it.
import type { RowSink, SinkItem } from './row-sink.js';

export abstract class BufferedFilter implements RowSink {
  private pending: SinkItem[] = [];
  private lastAddedAt = Date.now();
  /** A chunk flushed for idleness, still being processed: no caller awaits it. */
  private idleFlush?: Promise<void>;
  /** Its failure (a store that cannot be reached), for the next add or drain to throw: they stop the run. */
  private idleFailure?: { error: unknown };

  constructor(
    protected readonly next: RowSink,
    private readonly chunkSize: number,
  ) {}

  /** Decides the chunk's rows: settles them here or forwards them with next.add(). */
  protected abstract process(chunk: SinkItem[]): Promise<void>;

  add(item: SinkItem): Promise<void> | undefined {
    if (this.idleFailure) return Promise.reject(this.idleFailure.error);
    this.pending.push(item);
    this.lastAddedAt = Date.now();
    return this.pending.length >= this.chunkSize ? this.flush() : undefined;
  }

  flushIfIdle(idleMs: number): void {
    if (this.pending.length > 0 && Date.now() - this.lastAddedAt >= idleMs) {
      this.idleFlush = this.flush().then(() => this.next.flushIfIdle(0), (error: unknown) => {
        this.idleFailure ??= { error };
      });
    } else {
      this.next.flushIfIdle(idleMs);
    }
  }

  async drain(): Promise<void> {
    await this.idleFlush;
    if (this.idleFailure) throw this.idleFailure.error;
    await this.flush();
    await this.next.drain();
  }

  settleInFlight(): Promise<void> {
    return this.next.settleInFlight();
  }

  private async flush(): Promise<void> {
    const chunk = this.pending.splice(0);
    if (chunk.length > 0) await this.process(chunk);
  }
}
