// node dist/bench/profile-summary.js FILE.cpuprofile [--top N] [--callers TEXT] [--by-folder]
// Self time per function of a V8 CPU profile (from npm run bench -- --profile DIR), heaviest
// first, with the idle and garbage-collector shares: where to look before optimising. With
// --callers, the call paths (innermost first) that lead to functions whose name holds TEXT; with
// --by-folder, self time per source folder (src/engine, node_modules/undici, node internals, …).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './paths.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, callers: { type: 'string' }, 'by-folder': { type: 'boolean', default: false } } });
if (positionals.length !== 1) {
  process.stderr.write('usage: profile-summary.js FILE.cpuprofile [--top N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const selfUs = new Map<string, number>();
profile.samples.forEach((id, i) => {
  const name = values.callers ? callPath(id, values.callers) : values['by-folder'] ? folderOf(id) : nameOf(id);
  if (name !== undefined) selfUs.set(name, (selfUs.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const totalUs = profile.endTime - profile.startTime;
const rows = [...selfUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
process.stdout.write(`total ${(totalUs / 1000).toFixed(0)} ms\n`);
for (const [name, us] of rows) process.stdout.write(`${(us / 1000).toFixed(1).padStart(9)} ms ${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${name}\n`);

function nameOf(id: number): string {
  const frame = byId.get(id)!.callFrame;
  const where = frame.url ? `${shorten(frame.url)}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

/** Where a frame's code lives: two levels of the repository path, a package, or what V8 calls it. */
function folderOf(id: number): string {
  const { url, functionName } = byId.get(id)!.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const path = shorten(url).split('/');
  const packageAt = path.lastIndexOf('node_modules');
  if (packageAt >= 0) return path.slice(packageAt, packageAt + (path[packageAt + 1]?.startsWith('@') ? 3 : 2)).join('/');
  return path.slice(0, path[0] === 'dist' ? 3 : 2).join('/');
}

/** The sample's path from the first frame naming `text` up five callers, or undefined. */
function callPath(id: number, text: string): string | undefined {
  let at: number | undefined = id;
  while (at !== undefined && !nameOf(at).includes(text)) at = parentOf.get(at);
  if (at === undefined) return undefined;
  const path: string[] = [];
  for (let depth = 0; at !== undefined && depth < 6; depth++, at = parentOf.get(at)) path.push(nameOf(at));
  return path.join('\n      <- ');
}

function shorten(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  return path.startsWith(repoRoot) ? relative(repoRoot, path) : path.replace(/^node:/, 'node:');
}
