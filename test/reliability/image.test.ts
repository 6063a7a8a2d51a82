// The image must not run as root (Airbyte runs connectors as a non-root user, and a connector
// that needs root is a risk). scripts/check-dockerfile.sh replays the steps as uid 1000, and as a
// random uid in group 0 (OpenShift) that must be able to write the state store.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/airbyte-protocol.ts';

describe('Dockerfile', () => {
  it('runs its entrypoint as a non-root user', () => {
    const lines = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').split('\n').map((line) => line.trim());
    const finalStage = lines.slice(lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true));
    const users = finalStage.filter((line) => /^USER\s/i.test(line)).map((line) => line.split(/\s+/)[1]);
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.split(':')[0];
    expect(['root', '0']).not.toContain(user);
    expect(finalStage.findIndex((l) => /^USER\s/i.test(l))).toBeLessThan(finalStage.findIndex((l) => /^ENTRYPOINT\s/i.test(l)));
  });

  it('makes /airbyte writable by group 0, for the random uids OpenShift-style platforms run images as', () => {
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    const replay = readFileSync(join(repoRoot, 'scripts/check-dockerfile.sh'), 'utf8');
    expect(dockerfile).toMatch(/chown \d+:0 \/airbyte && chmod g=u \/airbyte/);
    expect(replay).toMatch(/chown \d+:0 "\$work\/airbyte" && chmod g=u "\$work\/airbyte"/);
  });

  it('runs node with the options the benchmark measured (package.json config.nodeOptions)', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    expect(pkg.config.nodeOptions).toMatch(/--max-semi-space-size=\d+/);
    expect(dockerfile).toContain(`ENV NODE_OPTIONS="${pkg.config.nodeOptions}"`);
  });

  // No Docker engine here: the script replays the build stage, the production stage (runtime
  // dependencies only) and runs the entrypoint as uid 1000, which must print a valid SPEC.
  it('builds and runs by its own steps, replayed without a Docker engine', () => {
    // The build stage reuses the suite's own node_modules (installed from the same lock file).
    const env = { ...process.env, REPLAY_BUILD_NODE_MODULES: join(repoRoot, 'node_modules') };
    const replay = spawnSync('bash', [join(repoRoot, 'scripts/check-dockerfile.sh')], { encoding: 'utf8', timeout: 600_000, env });
    expect(replay.status, replay.stderr).toBe(0);
    expect(replay.stdout).toContain('image steps ok: SPEC printed by uid 1000 from the production stage');
    expect(replay.stdout).toMatch(/image steps ok: uid \d+ \(group 0\) made and locked the state store in \/airbyte/);
  }, 600_000);
});
