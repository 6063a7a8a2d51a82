// Meltano passes a loader's settings as TARGET_CRM_ACTIVATE_<SETTING> environment variables, with
// nested keys flattened by "_" (crm.access_token → TARGET_CRM_ACTIVATE_CRM_ACCESS_TOKEN). The
// flattening is ambiguous on its own, so each variable is matched against the paths spec.json
// defines; objects and arrays (objects, crm.auth) come as JSON.
import { configSchema } from './spec.js';

export const ENV_PREFIX = 'TARGET_CRM_ACTIVATE_';

type Schema = Record<string, any>;
interface SettingPath {
  path: string[];
  type: string;
}

export function settingsFromEnvironment(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  const paths = settingPaths(configSchema as Schema, []);
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const flat = name.slice(ENV_PREFIX.length);
    const setting = paths.find((p) => flatten(p.path) === flat);
    if (setting) assign(settings, setting.path, parse(raw, setting.type));
  }
  return settings;
}

/** Deep merge: the file's values win over the environment's. */
export function mergeSettings(fromEnv: Record<string, unknown>, fromFile: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...fromEnv };
  for (const [key, value] of Object.entries(fromFile)) {
    const base = merged[key];
    merged[key] = isPlainObject(base) && isPlainObject(value) ? mergeSettings(base, value) : value;
  }
  return merged;
}

function settingPaths(schema: Schema, path: string[]): SettingPath[] {
  const found: SettingPath[] = [];
  if (path.length > 0) found.push({ path, type: Array.isArray(schema.type) ? schema.type[0] : schema.type ?? 'object' });
  const children = [schema, ...(schema.oneOf ?? [])].flatMap((s: Schema) => Object.entries((s.properties ?? {}) as Record<string, Schema>));
  for (const [key, sub] of children) found.push(...settingPaths(sub, [...path, key]));
  return found.filter((p, i) => found.findIndex((q) => flatten(q.path) === flatten(p.path)) === i);
}

function flatten(path: string[]): string {
  return path.join('_').toUpperCase();
}

function parse(raw: string, type: string): unknown {
  if (type === 'boolean') return ['true', '1', 'yes'].includes(raw.toLowerCase());
  if (type === 'integer' || type === 'number') return Number(raw);
  if (type === 'object' || type === 'array') {
    try {
      return JSON.parse(raw);
    } catch {
      return raw; // left for validation to report by path
    }
  }
  return raw;
}

function assign(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  node[last] = isPlainObject(node[last]) && isPlainObject(value) ? mergeSettings(node[last] as Record<string, unknown>, value) : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
