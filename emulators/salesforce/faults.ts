// Faults tests ask for: each applies to the next `times` (default 1) requests it matches.
import type { Fault } from './types.js';

interface PendingFault {
  fault: Fault;
  remaining: number;
}

function matches(fault: Fault, method: string, path: string): boolean {
  const { match } = fault;
  if (match?.method && match.method.toUpperCase() !== method.toUpperCase()) return false;
  return !match?.pathIncludes || path.includes(match.pathIncludes);
}

export class FaultQueue {
  private pending: PendingFault[] = [];

  add(faults: Fault[]): void {
    for (const fault of faults) this.pending.push({ fault, remaining: fault.times ?? 1 });
  }

  /** The first pending fault that matches this request, used up by one. */
  take(method: string, path: string): Fault | undefined {
    const found = this.pending.find((p) => matches(p.fault, method, path));
    if (!found) return undefined;
    found.remaining -= 1;
    if (found.remaining <= 0) this.pending = this.pending.filter((p) => p !== found);
    return found.fault;
  }
}
