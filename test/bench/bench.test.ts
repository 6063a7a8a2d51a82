// Keeps the benchmark harness from rotting: `npm run bench -- --quick` runs every scenario over a
// few thousand rows through the same code as the full benchmark (real CLI, emulator in its own
// process). Asserts what the tables report and that every run was correct, never a timing.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/airbyte-protocol.ts';
import { tempDir } from '../support/run-cli.ts';

interface Run {
  id: string;
  rows: number;
  writeCalls: number;
  minWriteCalls: number;
  jobs: number;
  requestsPerJob: number;
  counts: Record<string, number>;
  problems: string[];
}

interface Verdict {
  target: string;
  status: string;
}

const verdictOf = (verdicts: Verdict[], start: string) => verdicts.find((v) => v.target.startsWith(start))?.status;

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist/bench/run.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench -- --quick', () => {
  it('runs every scenario correctly, at the minimum write calls (and link calls), and prints the tables', async () => {
    const json = join(tempDir(), 'bench.json');
    const bench = await runBench(['--quick', '--rows', '2000', '--json', json]);
    expect(bench.code, bench.stderr).toBe(0);
    expect(bench.stdout).toContain('| run | rows | wall s | rows/s |');
    expect(bench.stdout).toContain('| target | measured | verdict |');

    const { results, verdicts } = JSON.parse(readFileSync(json, 'utf8'));
    const runs: Run[] = [results.load, results.unchanged, results.changed, results.latency.reference, results.latency.run, results.throttled.run];
    for (const run of runs) expect(run.problems, run.id).toEqual([]);
    expect(results.load).toMatchObject({ rows: 2000, writeCalls: 20, minWriteCalls: 20, counts: { created: 2000 } });
    expect(results.unchanged).toMatchObject({ writeCalls: 0, counts: { unchanged: 2000 } });
    expect(results.changed).toMatchObject({ writeCalls: 1, minWriteCalls: 1, counts: { updated: 20, unchanged: 1980 } });
    for (const run of runs) expect(run.writeCalls, run.id).toBe(run.minWriteCalls);
    expect(results.baseline.rows).toBe(2000);
    // The account's ceiling with the default config, alone and two runs side by side: every row
    // written, and the pacing found in HubSpot's answers keeps a lone run from being refused.
    for (const run of [results.ceiling.run, ...results.shared.runs] as Run[]) expect(run.problems, run.id).toEqual([]);
    expect(results.ceiling.run).toMatchObject({ counts: { created: results.ceiling.run.rows }, emulator: { rateLimited: 0 } });
    expect(results.shared.runs).toHaveLength(2);
    expect(results.quota).toBeUndefined();
    expect(verdictOf(verdicts, 'stops at the API quota share')).toBe('not applicable');
    // Each invoice linked to the contact its row names: per batch of 100 one record write, one
    // contacts read and one association call; the rerun makes none of them.
    const { links } = results;
    for (const run of [links.load, links.rerun] as Run[]) expect(run.problems, run.id).toEqual([]);
    expect(links.load).toMatchObject({ rows: 2000, counts: { created: 2000 } });
    expect(links.load.emulator.kinds).toEqual({ 'record write': 20, 'target read': 20, 'association call': 20 });
    expect(links.rerun).toMatchObject({ rows: 2000, counts: { unchanged: 2000 } });
    expect(links.rerun.emulator.kinds).toEqual({});
    expect(bench.stdout).toContain('| links run | rows | record writes | target reads | association calls |');
    expect(verdictOf(verdicts, 'per batch of 100 rows')).toBe('met');
    expect(verdictOf(verdicts, 'every run correct')).toBe('met');
  }, 240_000);

  it('runs Salesforce: Bulk API jobs by default, sObject Collections as a variant, no throttled run', async () => {
    const json = join(tempDir(), 'bench.json');
    const bench = await runBench(['--quick', '--crm', 'salesforce', '--json', json]);
    expect(bench.code, bench.stderr).toBe(0);
    expect(bench.stdout).toContain('### salesforce, 2,000 rows (jsonl, quick)');

    const { results, verdicts } = JSON.parse(readFileSync(json, 'utf8'));
    const [rest] = results.variants;
    const runs: Run[] = [results.load, results.unchanged, results.changed, results.latency.reference, results.latency.run, rest.load, rest.latency.reference, rest.latency.run];
    for (const run of runs) expect(run.problems, run.id).toEqual([]);
    for (const run of runs) expect(run.writeCalls, run.id).toBe(run.minWriteCalls);
    // 2,000 rows reach the bulk threshold: one job (create, upload, close, status, results), no collection call.
    expect(results.load).toMatchObject({ rows: 2000, writeCalls: 1, jobs: 1, counts: { created: 2000 } });
    expect(results.load.requestsPerJob).toBeGreaterThanOrEqual(5);
    expect(results.unchanged).toMatchObject({ writeCalls: 0, jobs: 0, counts: { unchanged: 2000 } });
    // 20 changed rows are below the threshold: one collection call.
    expect(results.changed).toMatchObject({ writeCalls: 1, jobs: 0, counts: { updated: 20, unchanged: 1980 } });
    expect(rest.variant.id).toBe('rest');
    expect(rest.load).toMatchObject({ writeCalls: 10, minWriteCalls: 10, jobs: 0, counts: { created: 2000 } });
    expect(results.throttled).toBeUndefined();
    expect(results.ceiling).toBeUndefined();
    // Stopped at the quota share: exit 1, a STATE for every written row and none past them, the org never refusing.
    expect(results.quota.run.problems).toEqual([]);
    expect(results.quota.run).toMatchObject({ exitCode: 1, emulator: { refused: 0 } });
    expect(results.quota.rowsThroughLastState).toBeGreaterThan(0);
    expect(results.quota.rowsInCrm).toBeGreaterThanOrEqual(results.quota.rowsThroughLastState);
    expect(verdictOf(verdicts, 'stops at the API quota share')).toBe('met');
    expect(verdictOf(verdicts, '≥ 95.0 % of the rate-limit ceiling')).toBe('not applicable');
    expect(results.links).toBeUndefined();
    expect(verdictOf(verdicts, 'per batch of 100 rows')).toBe('not applicable');
    expect(verdictOf(verdicts, 'every run correct')).toBe('met');
  }, 240_000);
});
