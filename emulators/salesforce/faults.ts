// Faults tests ask for. A fault fires on the requests it matches: on every one, on every `every`-th,
// or with `probability` (drawn from a seeded generator, so a failing run replays); `times`
// (default 1, Infinity for ever) bounds how often it fires. Every armed fault that matches counts
// the request, and the first one due fires, so several every-N faults interleave predictably.
import type { Fault } from './types.js';
import { seededRandom } from '../shared/seeded-random.js';

interface ArmedFault {
  fault: Fault;
  left: number;
  seen: number;
}

function matches(fault: Fault, method: string, path: string): boolean {
  const { match } = fault;
  if (match?.method && match.method.toUpperCase() !== method.toUpperCase()) return false;
  if (match?.pathIncludes && !path.includes(match.pathIncludes)) return false;
  return !match?.pathMatches || new RegExp(match.pathMatches).test(path);
}

export class FaultQueue {
  private armed: ArmedFault[] = [];
  private readonly random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  add(faults: Fault[]): void {
    for (const fault of faults) this.armed.push({ fault, left: fault.times ?? 1, seen: 0 });
  }

  clear(): void {
    this.armed = [];
  }

  /** The fault this request meets, if any; `path` includes the query string. */
  take(method: string, path: string): Fault | undefined {
    let due: ArmedFault | undefined;
    for (const armed of this.armed) {
      if (!matches(armed.fault, method, path)) continue;
      armed.seen += 1;
      const { every, probability } = armed.fault;
      const fires = every !== undefined ? armed.seen % every === 0 : probability !== undefined ? this.random() < probability : true;
      if (fires && !due) due = armed;
    }
    if (!due) return undefined;
    due.left -= 1;
    if (due.left <= 0) this.armed = this.armed.filter((a) => a !== due);
    return due.fault;
  }
}

