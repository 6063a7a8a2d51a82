#!/usr/bin/env node
import { runCli } from './cli.js';
import { createCrmDestination } from './crm/index.js';

await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  createDestination: createCrmDestination,
});
