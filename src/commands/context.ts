// What every command gets from the CLI: the process streams and the CRM factory. Tests swap
// the factory for an in-memory double; the product passes the real CRMs.
import type { Readable, Writable } from 'node:stream';
import type { DestinationFactory } from '../crm/destination.js';
import { Logger, Redactor } from '../protocol/log.js';
import { AirbyteOutput, LineWriter } from '../protocol/output.js';
import { secretValues, type Config } from '../config/spec.js';
import { passwordInUrl } from '../store/postgres-errors.js';

export interface CliDeps {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  createDestination: DestinationFactory;
}

export interface CommandContext {
  deps: CliDeps;
  lines: LineWriter;
  airbyte: AirbyteOutput;
  log: Logger;
}

export function commandContext(deps: CliDeps): CommandContext {
  const redactor = new Redactor();
  const lines = new LineWriter(deps.stdout, redactor);
  return { deps, lines, airbyte: new AirbyteOutput(lines), log: new Logger(deps.stderr, redactor) };
}

/** From here on, no secret of this config can reach a log line. */
export function protectSecrets(context: CommandContext, config: Config): void {
  for (const secret of secretValues(config)) context.log.redactor.add(secret);
  // The whole URL is a secret, but a driver's message may quote its password alone.
  const url = config.state?.url;
  if (url) context.log.redactor.add(passwordInUrl(url));
}
