import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedTypesPath, renderConfigTypes } from '../../scripts/gen-config-types.ts';

describe('config types', () => {
  it('are generated from the current spec.json (run `npm run gen` when this fails)', async () => {
    expect(readFileSync(generatedTypesPath, 'utf8')).toBe(await renderConfigTypes());
  });
});
