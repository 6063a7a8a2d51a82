// What became of every input record. The counts add up: received = created + updated + unchanged
// + removed + not_found + skipped + rejected + unknown, per object and for the records no object
// consumed. left_segment, cleared and archived count CRM records of earlier runs, not input records.
import type { RowOutcome } from '../crm/destination.js';

export type FinalStatus = RowOutcome['status'];

export interface OutcomeCounts {
  received: number;
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
  not_found: number;
  skipped: number;
  rejected: number;
  /** Written, but the CRM's answer was lost and could not be recovered: reported, states held back. */
  unknown: number;
  /** Not input records: keys of earlier runs absent from this complete run. */
  left_segment: number;
  /** Of those, records whose fields were emptied (on_removal: clear). */
  cleared: number;
  /** Of those, records archived or deleted (on_removal: archive). */
  archived: number;
}

export const emptyCounts = (): OutcomeCounts => ({
  received: 0, created: 0, updated: 0, unchanged: 0, removed: 0, not_found: 0, skipped: 0, rejected: 0, unknown: 0, left_segment: 0, cleared: 0, archived: 0,
});

export class RunCounts {
  readonly byTarget = new Map<string, OutcomeCounts>();
  /** Per target, when its first record arrived and its last one settled. */
  private readonly spans = new Map<string, { first: number; last: number }>();

  received(target: string): void {
    this.of(target).received += 1;
    if (!this.spans.has(target)) this.spans.set(target, { first: Date.now(), last: Date.now() });
  }

  settled(target: string, status: FinalStatus): void {
    this.of(target)[status] += 1;
    const span = this.spans.get(target);
    if (span) span.last = Date.now();
  }

  /** Milliseconds from a target's first record to its last settlement. */
  durationMs(target: string): number {
    const span = this.spans.get(target);
    return span ? span.last - span.first : 0;
  }

  departed(target: string, count: number, removed?: { how: 'clear' | 'archive'; count: number }): void {
    const counts = this.of(target);
    counts.left_segment += count;
    if (removed) counts[removed.how === 'clear' ? 'cleared' : 'archived'] += removed.count;
  }

  total(): OutcomeCounts {
    const total = emptyCounts();
    for (const counts of this.byTarget.values()) {
      for (const key of Object.keys(total) as (keyof OutcomeCounts)[]) total[key] += counts[key];
    }
    return total;
  }

  private of(target: string): OutcomeCounts {
    let counts = this.byTarget.get(target);
    if (!counts) {
      counts = emptyCounts();
      this.byTarget.set(target, counts);
    }
    return counts;
  }
}
