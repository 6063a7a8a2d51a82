import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configDocPath, renderConfigDoc } from '../../scripts/gen-docs.ts';

describe('docs/config.md', () => {
  it('is generated from the current spec.json (run `npm run docs` when this fails)', () => {
    expect(readFileSync(configDocPath, 'utf8')).toBe(renderConfigDoc());
  });

  it('documents every key of the config contract', () => {
    const doc = renderConfigDoc();
    for (const key of ['crm.access_token', 'crm.oauth.refresh_token', 'crm.auth.private_key', 'objects[].match.destination', 'objects[].on_removal', 'state.path', 'warnings.max_rejected_percent', 'dry_run']) {
      expect(doc).toContain(`\`${key}\``);
    }
  });
});
