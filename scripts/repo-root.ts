import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, whether a script runs from scripts/ or compiled from dist/scripts/. */
export function repoRoot(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  while (!(existsSync(join(dir, 'spec.json')) && existsSync(join(dir, 'tsconfig.json')))) dir = dirname(dir);
  return dir;
}
