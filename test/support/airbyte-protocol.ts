// Validates messages against the real Airbyte protocol schema in the workplace's shared reference
// folder (beside the checkout, never copied into it).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * shared/reference: $CRM_ACTIVATE_REFERENCE, else the nearest `shared/reference` above the
 * checkout, else above the repository it was cloned from (a scratch clone in /tmp, as a CI check
 * makes, still finds the workplace's folder through its origin).
 */
export const referenceDir = findReferenceDir();

function findReferenceDir(): string {
  if (process.env.CRM_ACTIVATE_REFERENCE) return process.env.CRM_ACTIVATE_REFERENCE;
  const found = referenceAbove(repoRoot) ?? referenceAbove(localOrigin());
  if (!found) throw new Error(`no shared/reference folder above ${repoRoot} or the repository it was cloned from; set CRM_ACTIVATE_REFERENCE`);
  return found;
}

function referenceAbove(start: string | undefined): string | undefined {
  if (!start) return undefined;
  for (let dir = dirname(start); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'reference');
    if (existsSync(join(candidate, 'airbyte'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The origin remote when it is a folder on this machine. */
function localOrigin(): string | undefined {
  const origin = spawnSync('git', ['-C', repoRoot, 'config', '--get', 'remote.origin.url'], { encoding: 'utf8' }).stdout?.trim();
  return origin && isAbsolute(origin) && existsSync(origin) ? origin : undefined;
}

const protocolPath = join(referenceDir, 'airbyte', 'airbyte_protocol.yaml');

const protocol = parse(readFileSync(protocolPath, 'utf8')) as Record<string, unknown>;
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema(protocol, 'airbyte_protocol.yaml');

const validators = new Map<string, ReturnType<Ajv['compile']>>();

function validatorFor(definition: string) {
  let validate = validators.get(definition);
  if (!validate) {
    validate = ajv.compile({ $ref: `airbyte_protocol.yaml#/definitions/${definition}` });
    validators.set(definition, validate);
  }
  return validate;
}

/** Throws with the schema's complaints when the value is not a valid instance of the definition. */
export function assertValid(definition: string, value: unknown): void {
  const validate = validatorFor(definition);
  if (!validate(value)) {
    throw new Error(`not a valid ${definition}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 2000)}`);
  }
}

/**
 * The schema's enums are open-ended in places (a STATE may carry anything); these checks add what
 * the protocol's prose requires of each message type we emit.
 */
export function assertValidAirbyteMessage(message: unknown): void {
  assertValid('AirbyteMessage', message);
  const m = message as Record<string, Record<string, unknown>> & { type: string };
  const body: Record<string, string> = {
    SPEC: 'spec', CONNECTION_STATUS: 'connectionStatus', DESTINATION_CATALOG: 'destination_catalog', STATE: 'state',
    LOG: 'log', TRACE: 'trace', CONTROL: 'control', RECORD: 'record', CATALOG: 'catalog',
  };
  if (!(body[m.type] in m)) throw new Error(`${m.type} message without its "${body[m.type]}" body`);
  const extra = Object.keys(m).filter((key) => key !== 'type' && key !== body[m.type]);
  if (extra.length > 0) throw new Error(`${m.type} message with unexpected keys ${extra.join(', ')}`);
}
