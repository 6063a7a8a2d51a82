import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configDocPath, renderConfigDoc } from '../../scripts/gen-docs.ts';
import { repoRoot } from '../support/airbyte-protocol.ts';

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

describe('README.md', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const documented = [...renderConfigDoc().matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]);

  it('explains every key a user sets (the fields of crm.oauth, crm.auth, crm.rate_limit and objects[].fields with their group)', () => {
    const groups: Record<string, string> = { 'crm.oauth.': 'crm.oauth', 'crm.auth.': 'crm.auth', 'crm.rate_limit.': 'crm.rate_limit', 'objects[].fields[].': 'objects[].fields' };
    const leaves = documented.filter((key) => !documented.some((other) => other.startsWith(`${key}.`)));
    const explained = new Set(leaves.map((key) => Object.entries(groups).find(([prefix]) => key.startsWith(prefix))?.[1] ?? key));
    expect([...explained].filter((key) => !readme.includes(`\`${key}\``))).toEqual([]);
  });

  it('gives the two commands a newcomer runs', () => {
    expect(readme).toContain('bash scripts/demo.sh');
    expect(readme).toContain('bash scripts/test.sh');
  });
});
