// "Did you mean …?" for field and key names: users type `Amount` for `Amount__c` or `amout`.

export function closestName(wanted: string, candidates: Iterable<string>): string | undefined {
  const target = normalize(wanted);
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = distanceTo(target, name);
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (!best) return undefined;
  const tolerance = Math.max(2, Math.floor(target.length / 3));
  return best.distance <= tolerance ? best.name : undefined;
}

/** Up to `count` candidates, closest first (for listing what there is when nothing is close enough to guess). */
export function closestNames(wanted: string, candidates: Iterable<string>, count: number): string[] {
  const target = normalize(wanted);
  return [...candidates]
    .map((name) => ({ name, distance: distanceTo(target, name) }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, count)
    .map(({ name }) => name);
}

function distanceTo(target: string, name: string): number {
  const candidate = normalize(name);
  if (candidate === target) return 0;
  if (candidate.includes(target) || target.includes(candidate)) return Math.abs(candidate.length - target.length) / 2;
  return editDistance(target, candidate);
}

export function didYouMean(wanted: string, candidates: Iterable<string>): string {
  const suggestion = closestName(wanted, candidates);
  return suggestion ? ` (did you mean "${suggestion}"?)` : '';
}

/** Case, separators and Salesforce's custom suffix carry no meaning when guessing intent. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/__c$/, '').replace(/[^a-z0-9]/g, '');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}
