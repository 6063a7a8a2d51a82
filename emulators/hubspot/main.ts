// CLI: node dist/emulators/hubspot/main.js --port 0 --schema FILE.json --access-token T [--records contacts=FILE.jsonl]
// Prints {"url": "..."} as one JSON line on stdout once listening; runs until SIGTERM or SIGINT.
// bin/hubspot-emulator runs it with the examples' object and token.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startHubSpotEmulator, type HubSpotEmulatorOptions, type ObjectSchemaEgg } from './index.js';
import { definedOnly, optionalNumber, serveFromCommandLine } from '../shared/cli.js';

const USAGE = `usage: main.js [--port N] [--schema FILE.json]... [--access-token T]... [--portal-id N]
  [--max-requests N --interval-ms N] [--records OBJECT=FILE.jsonl]...`;

type CommandLineOptions = HubSpotEmulatorOptions & {
  /** Records to create at start (contacts for associations to find), per object type: one JSON object of properties per line. */
  records: { objectType: string; rows: Record<string, string>[] }[];
};

function readOptions(argv: string[]): CommandLineOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      schema: { type: 'string', multiple: true },
      'access-token': { type: 'string', multiple: true },
      'portal-id': { type: 'string' },
      'max-requests': { type: 'string' },
      'interval-ms': { type: 'string' },
      records: { type: 'string', multiple: true },
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
    records: (values.records ?? []).map(readRecords),
  };
}

function readRecords(option: string): { objectType: string; rows: Record<string, string>[] } {
  const at = option.indexOf('=');
  if (at <= 0) throw new Error(`--records takes OBJECT=FILE.jsonl, got ${option}`);
  const lines = readFileSync(option.slice(at + 1), 'utf8').split('\n').filter((line) => line.trim() !== '');
  return { objectType: option.slice(0, at), rows: lines.map((line) => JSON.parse(line) as Record<string, string>) };
}

async function start({ records, ...options }: CommandLineOptions) {
  const emulator = await startHubSpotEmulator(definedOnly(options));
  for (const { objectType, rows } of records) emulator.seedRecords(objectType, rows);
  return emulator;
}

await serveFromCommandLine('hubspot', USAGE, readOptions, start,
  (options) => `custom objects: ${options.schemas?.map((schema) => schema.name).join(', ') || 'none'}${options.records.map((r) => `; ${r.rows.length} ${r.objectType}`).join('')}`);
