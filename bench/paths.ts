// Where things are, whether the harness runs compiled from dist/bench/ or from bench/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!(existsSync(join(dir, 'spec.json')) && existsSync(join(dir, 'tsconfig.json')))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root above the benchmark');
    dir = parent;
  }
  return dir;
}

export const repoRoot = findRoot();
/** The product binary, as users run it. */
export const cliEntry = join(repoRoot, 'dist/src/main.js');
/** Compiled harness files live beside this one. */
export const benchFile = (name: string) => join(dirname(fileURLToPath(import.meta.url)), name);

/** The Node options the image runs the product with (package.json config.nodeOptions, the Dockerfile's NODE_OPTIONS). */
export function productNodeOptions(): string[] {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { config?: { nodeOptions?: string } };
  return (pkg.config?.nodeOptions ?? '').split(/\s+/).filter(Boolean);
}
