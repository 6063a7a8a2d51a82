// spec.json is the one source of the config contract: the CLI's SPEC message, ajv validation,
// the generated TypeScript types (config.generated.ts) and the docs all derive from it.
import spec from '../../spec.json' with { type: 'json' };
import type { CrmActivate } from './config.generated.js';

export type Config = CrmActivate;
export type CrmConfig = Config['crm'];
export type HubSpotConfig = Extract<CrmConfig, { type: 'hubspot' }>;
export type SalesforceConfig = Extract<CrmConfig, { type: 'salesforce' }>;
export type ObjectConfig = Config['objects'][number];
export type SyncMode = ObjectConfig['mode'];
export type OnRemoval = NonNullable<ObjectConfig['on_removal']>;
export type WritePolicy = NonNullable<NonNullable<ObjectConfig['fields']>[number]['when']>;

export const configSchema: Record<string, unknown> = spec;

/** Every value the spec marks airbyte_secret, found by walking the schema beside the config. */
export function secretValues(config: unknown, schema: unknown = configSchema): string[] {
  if (!isRecord(schema) || config === undefined || config === null) return [];
  if (schema.airbyte_secret === true && typeof config === 'string') return [config];
  const found: string[] = [];
  for (const branch of [...asArray(schema.oneOf), ...asArray(schema.anyOf)]) found.push(...secretValues(config, branch));
  if (isRecord(schema.properties) && isRecord(config)) {
    for (const [key, sub] of Object.entries(schema.properties)) found.push(...secretValues(config[key], sub));
  }
  if (schema.items && Array.isArray(config)) for (const item of config) found.push(...secretValues(item, schema.items));
  return [...new Set(found)];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
