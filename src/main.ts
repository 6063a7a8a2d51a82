#!/usr/bin/env node
// The entry point checks the Node version before anything else loads: the product needs
// node:sqlite, and an older Node would otherwise die with a raw stack on its first import.
import { NODE_NEEDED, nodeIsRecentEnough } from './node-version.js';

if (!nodeIsRecentEnough(process.versions.node)) {
  process.stderr.write(`crm-activate needs Node.js ${NODE_NEEDED} or newer, and this is ${process.version}: run it through bin/crm-activate (which brings Node 24) or the container image\n`);
  process.exit(1);
}

(await import('./heap-bounds.js')).boundHeap();

const [{ runCli }, { createCrmDestination }] = await Promise.all([import('./cli.js'), import('./crm/index.js')]);
await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  createDestination: createCrmDestination,
});
