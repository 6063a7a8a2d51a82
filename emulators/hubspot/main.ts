// CLI: node dist/emulators/hubspot/main.js --port 0 --schema FILE.json --access-token T
// Prints {"url": "..."} as one JSON line on stdout once listening; runs until SIGTERM or SIGINT.
// bin/hubspot-emulator runs it with the examples' object and token.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startHubSpotEmulator, type HubSpotEmulatorOptions, type ObjectSchemaEgg } from './index.js';
import { definedOnly, optionalNumber, serveFromCommandLine } from '../shared/cli.js';

const USAGE = `usage: main.js [--port N] [--schema FILE.json]... [--access-token T]... [--portal-id N]
  [--max-requests N --interval-ms N]`;

function readOptions(argv: string[]): HubSpotEmulatorOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      schema: { type: 'string', multiple: true },
      'access-token': { type: 'string', multiple: true },
      'portal-id': { type: 'string' },
      'max-requests': { type: 'string' },
      'interval-ms': { type: 'string' },
    },
  });
  const max = optionalNumber(values['max-requests']);
  const intervalMs = optionalNumber(values['interval-ms']);
  return {
    port: optionalNumber(values.port),
    portalId: optionalNumber(values['portal-id']),
    accessTokens: values['access-token'],
    schemas: (values.schema ?? []).map((path) => JSON.parse(readFileSync(path, 'utf8')) as ObjectSchemaEgg),
    rateLimit: max === undefined && intervalMs === undefined ? undefined : { max: max ?? 100, intervalMs: intervalMs ?? 10_000 },
  };
}

await serveFromCommandLine('hubspot', USAGE, readOptions, (options) => startHubSpotEmulator(definedOnly(options)),
  (options) => `custom objects: ${options.schemas?.map((schema) => schema.name).join(', ') || 'none'}`);
