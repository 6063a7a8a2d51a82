// The real CLI (built, in dist/) wired to the in-memory CRM; its behaviour comes from the
// MEMORY_CRM environment variable as JSON. Run by tests as a child process.
import { runCli } from '../../dist/src/cli.js';
import { MemoryDestination, type MemoryBehaviour } from './memory-destination.ts';

const behaviour = JSON.parse(process.env.MEMORY_CRM ?? '{"objects":{}}') as MemoryBehaviour;

await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  createDestination: () => new MemoryDestination(behaviour),
});
