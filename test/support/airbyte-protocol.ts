// Validates messages against the real Airbyte protocol schema in ../shared/reference.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const protocolPath = `${repoRoot}/../shared/reference/airbyte/airbyte_protocol.yaml`;

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
