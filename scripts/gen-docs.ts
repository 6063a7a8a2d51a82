// docs/config.md, generated from spec.json so the reference can never drift from the contract.
// `npm run docs` rewrites it; a test fails when it is stale.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './repo-root.ts';

type Schema = Record<string, any>;

const root = repoRoot(import.meta.url);
export const configDocPath = join(root, 'docs/config.md');

interface Row {
  path: string;
  type: string;
  fallback: string;
  notes: string;
  secret: boolean;
  /** Conditions under which the key applies (a oneOf branch); several when branches share it. */
  when: string[];
}

export function renderConfigDoc(): string {
  const spec = JSON.parse(readFileSync(join(root, 'spec.json'), 'utf8')) as Schema;
  const rows: Row[] = [];
  walk(spec, '', rows);
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from spec.json by `npm run docs`. Do not edit by hand. -->',
    '',
    `${spec.description} One JSON file, passed with \`--config FILE\`; it is validated against \`spec.json\` before anything runs,`,
    'and every problem is listed by path. Keys marked secret are never printed.',
    '',
    '| key | type | default | description |',
    '| --- | --- | --- | --- |',
    ...mergeBranches(rows).map(format),
    '',
  ].join('\n');
}

function walk(schema: Schema, path: string, rows: Row[], when: string[] = []): void {
  if (path) rows.push(describe(schema, path, when));
  const branches: Schema[] = schema.oneOf ?? [];
  if (branches.length > 0) rows.push(typeRow(path, branches, when));
  for (const branch of branches) {
    const condition = [`${path}.type = ${branch.properties?.type?.const}`];
    for (const [key, sub] of orderedProperties(branch)) if (key !== 'type') walk(sub, join2(path, key), rows, condition);
  }
  for (const [key, sub] of orderedProperties(schema)) walk(sub, join2(path, key), rows, when);
  // A value of one of several forms (crm.rate_limit: "auto" or an object): the object's keys too.
  for (const alternative of schema.anyOf ?? []) for (const [key, sub] of orderedProperties(alternative)) walk(sub, join2(path, key), rows, when);
  for (const [key, sub] of orderedProperties(schema.items ?? {})) walk(sub, `${path}[].${key}`, rows, when);
}

/** A key several branches share (client_id in three auth types) is listed once, with every branch. */
function mergeBranches(rows: Row[]): Row[] {
  const merged: Row[] = [];
  for (const row of rows) {
    const twin = merged.find((m) => m.path === row.path && m.type === row.type && m.notes === row.notes && m.secret === row.secret);
    if (twin) twin.when.push(...row.when);
    else merged.push({ ...row, when: [...row.when] });
  }
  return merged;
}

function typeRow(path: string, branches: Schema[], when: string[]): Row {
  const types = branches.map((b) => `\`${b.properties?.type?.const}\` (${b.title})`).join(', ');
  return { path: `${path}.type`, type: 'string', fallback: '', notes: `One of ${types}; the keys below say which type they apply to.`, secret: false, when };
}

function orderedProperties(schema: Schema): [string, Schema][] {
  return Object.entries((schema.properties ?? {}) as Record<string, Schema>).sort(([, a], [, b]) => (a.order ?? 0) - (b.order ?? 0));
}

function describe(schema: Schema, path: string, when: string[]): Row {
  const type = schema.anyOf ? schema.anyOf.map(typeOf).join(' \\| ') : typeOf(schema);
  const notes = [schema.title && schema.description ? `**${schema.title}.**` : schema.title, schema.description].filter(Boolean).join(' ');
  return { path, type, fallback: schema.default === undefined ? '' : `\`${JSON.stringify(schema.default)}\``, notes, secret: schema.airbyte_secret === true, when };
}

function typeOf(schema: Schema): string {
  return schema.enum ? schema.enum.map((v: unknown) => `\`${v}\``).join(' \\| ') : schema.type ?? 'object';
}

function format(row: Row): string {
  const flags = [row.secret ? 'secret' : '', row.when.length > 0 ? `when ${conditions(row.when)}` : ''].filter(Boolean).join('; ');
  return `| \`${row.path}\` | ${row.type} | ${row.fallback} | ${[row.notes, flags ? `(${flags})` : ''].filter(Boolean).join(' ')} |`;
}

/** "crm.auth.type = a", "crm.auth.type = b" → "crm.auth.type = a, b". */
function conditions(when: string[]): string {
  const [subject] = when[0].split(' = ');
  return when.every((w) => w.startsWith(`${subject} = `)) ? `${subject} = ${when.map((w) => w.split(' = ')[1]).join(', ')}` : when.join(' or ');
}

function join2(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(dirname(configDocPath), { recursive: true });
  writeFileSync(configDocPath, renderConfigDoc());
}
