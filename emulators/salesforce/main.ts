// CLI: node dist/emulators/salesforce/main.js --port 0 --objects FILE.json --client-id X --client-secret Y
// Prints {"url": "..."} as one JSON line on stdout once listening; runs until SIGTERM or SIGINT.
// bin/salesforce-emulator runs it with the examples' object and client.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startSalesforceEmulator } from './index.js';
import { definedOnly, optionalNumber, serveFromCommandLine } from '../shared/cli.js';
import type { CustomObjectDef, OAuthClient, SalesforceEmulatorOptions } from './types.js';

const USAGE = `usage: main.js [--port N] [--objects FILE.json] [--client-id ID --client-secret SECRET]
  [--refresh-token T] [--username U] [--public-key FILE.pem] [--api-version 62.0]
  [--daily-api-limit N] [--bulk-delay-ms N]`;

/** A list of object definitions, {objects: [...]}, or one definition (examples/salesforce/invoice-object.json). */
function readObjects(path: string | undefined): CustomObjectDef[] {
  if (!path) return [];
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as CustomObjectDef[] | { objects: CustomObjectDef[] } | CustomObjectDef;
  if (Array.isArray(parsed)) return parsed;
  return 'objects' in parsed ? parsed.objects : [parsed];
}

function readOptions(argv: string[]): SalesforceEmulatorOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      objects: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'refresh-token': { type: 'string' },
      username: { type: 'string' },
      'public-key': { type: 'string' },
      'api-version': { type: 'string' },
      'daily-api-limit': { type: 'string' },
      'bulk-delay-ms': { type: 'string' },
    },
  });
  const clients: OAuthClient[] = [];
  if (values['client-id'] && values['client-secret']) {
    clients.push({
      clientId: values['client-id'],
      clientSecret: values['client-secret'],
      refreshToken: values['refresh-token'],
      username: values.username,
      publicKeyPem: values['public-key'] ? readFileSync(values['public-key'], 'utf8') : undefined,
    });
  }
  return {
    port: optionalNumber(values.port),
    apiVersion: values['api-version'],
    clients,
    objects: readObjects(values.objects),
    dailyApiLimit: optionalNumber(values['daily-api-limit']),
    bulkProcessingDelayMs: optionalNumber(values['bulk-delay-ms']),
  };
}

await serveFromCommandLine('salesforce', USAGE, readOptions, (options) => startSalesforceEmulator(definedOnly(options)),
  (options) => `${options.objects?.length ?? 0} custom objects`);
