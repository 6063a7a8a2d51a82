// Validates a config against spec.json and lists every problem by path
// (`objects[0].match.source is required`), then the rules JSON Schema cannot say.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { configSchema, type Config } from './spec.js';
import { didYouMean } from './closest-name.js';
import { configError } from '../errors.js';
import { mergeSettings, settingsFromEnvironment } from './environment.js';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false });
// Airbyte's UI annotations: meaningful to Airbyte, inert for validation.
ajv.addVocabulary(['airbyte_secret', 'order', 'multiline']);
const validateSchema = ajv.compile(configSchema);

/** The config file, completed by TARGET_CRM_ACTIVATE_* environment variables (Meltano); `ENV` reads only those. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  const fromEnv = settingsFromEnvironment(env);
  if (path === 'ENV') return validateConfig(fromEnv);
  return validateConfig(mergeSettings(fromEnv, readConfigFile(path)));
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw configError(`cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw configError(`the config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw configError(`the config file ${path} must hold a JSON object`);
  return value as Record<string, unknown>;
}

export function validateConfig(value: unknown): Config {
  const problems = configProblems(value);
  if (problems.length > 0) {
    throw configError(`invalid config: ${problems.join('; ')}`, { code: 'invalid_config' });
  }
  return value as Config;
}

export function configProblems(value: unknown): string[] {
  if (!validateSchema(value)) return describeSchemaErrors(validateSchema.errors ?? []);
  return semanticProblems(value as Config);
}

function describeSchemaErrors(errors: ErrorObject[]): string[] {
  const relevant = errors.filter(isInChosenBranch(errors));
  return [...new Set(relevant.map(describeError).filter((m): m is string => m !== undefined))];
}

/**
 * A oneOf (crm, crm.auth) is chosen by its `type`; errors from the other branches are noise.
 * When `type` matches no branch, the oneOf error itself says which types exist.
 */
function isInChosenBranch(errors: ErrorObject[]): (error: ErrorObject) => boolean {
  const chosen = new Map<string, number>();
  for (const error of errors.filter((e) => e.keyword === 'oneOf')) {
    const branches = (error.schema as Record<string, unknown>[]) ?? [];
    const type = (error.data as Record<string, unknown> | undefined)?.type;
    chosen.set(error.schemaPath, branches.findIndex((b) => typeConst(b) === type));
  }
  return (error) => {
    for (const [oneOfPath, index] of chosen) {
      if (error.schemaPath === oneOfPath) return index < 0;
      const branch = error.schemaPath.startsWith(`${oneOfPath}/`) ? Number(error.schemaPath.slice(oneOfPath.length + 1).split('/')[0]) : undefined;
      if (branch !== undefined && branch !== index) return false;
    }
    return true;
  };
}

function typeConst(branch: Record<string, unknown>): unknown {
  return ((branch.properties as Record<string, { const?: unknown }> | undefined)?.type)?.const;
}

function describeError(error: ErrorObject): string | undefined {
  const at = displayPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${join(at, String(params.missingProperty))} is required`;
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema as { properties?: object })?.properties ?? {});
      const key = String(params.additionalProperty);
      return `${join(at, key)} is not a known setting${didYouMean(key, known)}`;
    }
    case 'enum':
      return `${at} must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'oneOf': {
      const types = ((error.schema as Record<string, unknown>[]) ?? []).map(typeConst).filter(Boolean);
      return `${join(at, 'type')} must be one of ${types.join(', ')}`;
    }
    case 'const':
      return undefined; // reported by the oneOf that chose the branch
    case 'type':
      return `${at || 'the config'} must be ${article(String(params.type))}`;
    case 'minLength':
      return `${at} must not be empty`;
    case 'minItems':
      return `${at} must have at least ${params.limit} item${params.limit === 1 ? '' : 's'}`;
    case 'pattern':
      return /http/.test(String(params.pattern)) ? `${at} must start with http:// or https://` : `${at} must match ${params.pattern}`;
    default:
      return `${at || 'the config'} ${error.message}`;
  }
}

function semanticProblems(config: Config): string[] {
  const problems: string[] = [];
  const { crm } = config;
  if (crm.type === 'hubspot') {
    if (!crm.access_token && !crm.oauth) problems.push('crm.access_token or crm.oauth is required');
    if (crm.access_token && crm.oauth) problems.push('crm.access_token and crm.oauth are exclusive: give one');
  }
  problems.push(...insecureUrlProblems(config));
  const streams = new Map<string, number>();
  config.objects.forEach((entry, i) => {
    if (config.objects.length > 1 && !entry.stream) problems.push(`objects[${i}].stream is required when there are several objects`);
    if (entry.stream) {
      if (streams.has(entry.stream)) problems.push(`objects[${i}].stream "${entry.stream}" is already consumed by objects[${streams.get(entry.stream)}]`);
      streams.set(entry.stream, i);
    }
    if (entry.mode !== 'insert' && !entry.match.destination) {
      problems.push(`objects[${i}].match.destination is required in ${entry.mode} mode`);
    }
    const seen = new Set<string>();
    entry.fields?.forEach((field, j) => {
      if (seen.has(field.destination)) problems.push(`objects[${i}].fields[${j}].destination "${field.destination}" is mapped twice`);
      seen.add(field.destination);
      const keyField = entry.match.destination;
      if (field.when && field.when !== 'always' && keyField && field.destination.toLowerCase() === keyField.toLowerCase()) {
        problems.push(`objects[${i}].fields[${j}].when "${field.when}" cannot apply to "${field.destination}", the match.destination field: every write carries the key that finds the record; remove "when" there`);
      }
    });
  });
  return problems;
}

/** Tokens (and the run report) must not cross a network in clear; loopback (emulators, local proxies) is fine. */
function insecureUrlProblems(config: Config): string[] {
  if (config.allow_insecure_http) return [];
  const crmUrls: [string, string | undefined][] = config.crm.type === 'hubspot'
    ? [['crm.base_url', config.crm.base_url]]
    : [['crm.login_url', config.crm.login_url], ['crm.auth.instance_url', config.crm.auth.type === 'access_token' ? config.crm.auth.instance_url : undefined]];
  const urls = [...crmUrls, ['warnings.webhook_url', config.warnings?.webhook_url] as [string, string | undefined]];
  return urls
    .filter(([, url]) => url !== undefined && isInsecureRemote(url))
    .map(([path]) => `${path} uses plain http:// on a non-loopback host; use https:// or set allow_insecure_http`);
}

export function isInsecureRemote(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname) && !parsed.hostname.startsWith('127.');
  } catch {
    return false;
  }
}

function displayPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : join(path, part)), '');
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
