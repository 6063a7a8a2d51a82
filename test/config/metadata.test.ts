import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { referenceDir, repoRoot } from '../support/airbyte-protocol.ts';

describe('metadata.yaml', () => {
  it('is valid against Airbyte\'s ConnectorMetadataDefinitionV0 and agrees with the package and the image', () => {
    const schema = JSON.parse(readFileSync(join(referenceDir, 'airbyte/ConnectorMetadataDefinitionV0.json'), 'utf8'));
    const metadata = parse(readFileSync(join(repoRoot, 'metadata.yaml'), 'utf8'));
    const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false, validateSchema: false }).compile(repaired(schema));
    expect(validate(metadata), JSON.stringify(validate.errors)).toBe(true);
    expect(metadata.data.dockerImageTag).toBe(packageJson.version);
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`io.airbyte.version="${packageJson.version}"`);
    expect(dockerfile).toContain(`io.airbyte.name="${metadata.data.dockerRepository}"`);
    expect(metadata.data.protocolVersion).toBe('0.2.0');
  });
});

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

/**
 * The published schema nests `$id`s whose `#/…` references mean the root document, and names a
 * Python class as a type in one place (`ConnectorMetric`): drop both, validate everything else.
 */
function repaired(node: unknown, depth = 0): unknown {
  if (Array.isArray(node)) return node.map((item) => repaired(item, depth + 1));
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(Object.entries(node)
    .filter(([key, value]) => depth === 0 || (key !== '$id' && key !== '$schema'))
    .filter(([key, value]) => key !== 'type' || typeof value !== 'string' || JSON_TYPES.has(value))
    .map(([key, value]) => [key, repaired(value, depth + 1)]));
}
