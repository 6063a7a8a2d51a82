// Derives the TypeScript types of the config from spec.json, so the contract is written once.
// `npm run gen` rewrites src/config/config.generated.ts; a test fails when it is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './repo-root.ts';
import { compile, type JSONSchema } from 'json-schema-to-typescript';

const root = repoRoot(import.meta.url);
export const generatedTypesPath = `${root}/src/config/config.generated.ts`;

export async function renderConfigTypes(): Promise<string> {
  const spec = JSON.parse(readFileSync(`${root}/spec.json`, 'utf8')) as JSONSchema;
  return compile(spec, 'Config', {
    bannerComment: '// Generated from spec.json by `npm run gen`. Do not edit by hand.',
    additionalProperties: false,
    ignoreMinAndMaxItems: true,
    style: { singleQuote: true },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(generatedTypesPath, await renderConfigTypes());
}
