// The run report, the rejected-rows file and the warning threshold, as a user sees them.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/airbyte-protocol.ts';
import { byType, errorTraces, runCli, tempDir, writeJson } from '../support/run-cli.ts';

const FIELDS = { id: 'string', amount: 'number', status: 'string' };

function setup(extra: Record<string, unknown> = {}) {
  const dir = tempDir();
  const config = writeJson(dir, 'config.json', {
    crm: { type: 'hubspot', access_token: 'pat-na1-secret-token-123' },
    objects: [{ object: 'items', mode: 'upsert', match: { source: 'id', destination: 'id' } }],
    state: { path: join(dir, 'state.db') },
    rejected_records_path: join(dir, 'out/rejected.jsonl'),
    ...extra,
  });
  const env = { MEMORY_CRM: JSON.stringify({ objects: { items: FIELDS }, rejectValue: 'INVALID' }) };
  return { dir, config, env };
}

const input = [
  { id: 'a', amount: 1, status: 'ok' },
  { id: 'b', amount: 'lots', status: 'ok' },
  { id: 'c', amount: 3, status: 'INVALID' },
  { id: 'd', amount: 4, status: 'ok' },
].map((row) => JSON.stringify(row));

describe('run report', () => {
  it('writes every rejected row with its line, key, reason and data', async () => {
    const { dir, config, env } = setup();
    const run = await runCli(['write', '--config', config], { entry: 'memory', env, stdin: [...input, 'oops'] });
    expect(run.code, run.stderr).toBe(0);
    const lines = readFileSync(join(dir, 'out/rejected.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // Each line names the run it came from (the file is appended to: test/transport/rejected-file.test.ts).
    const rejected = lines.map(({ run_started_at: runStartedAt, ...line }) => (expect(runStartedAt).toMatch(/^\d{4}-\d\d-\d\dT/), line));
    // In the order they settled: a line that is not JSON at once; a value that cannot convert once
    // its row's chunk was looked up in the store (only rows that may have changed are converted).
    expect(rejected).toEqual([
      { line: 5, stream: null, key: null, code: 'malformed_json', field: null, message: expect.stringContaining('not valid JSON'), row: null, raw: 'oops' },
      { line: 2, stream: null, key: 'b', code: 'INVALID_NUMBER', field: 'amount', message: '"lots" is not a number', row: { id: 'b', amount: 'lots', status: 'ok' } },
      { line: 3, stream: null, key: 'c', code: 'INVALID_OPTION', field: 'status', message: 'INVALID is not a valid option', row: { id: 'c', amount: 3, status: 'INVALID' } },
    ]);
    expect(run.stderr).toContain(`3 rejected row(s) written to ${join(dir, 'out/rejected.jsonl')}`);
  });

  it('writes the JSON report with --report', async () => {
    const { dir, config, env } = setup();
    const reportPath = join(dir, 'report.json');
    const run = await runCli(['write', '--config', config, '--report', reportPath], { entry: 'memory', env, stdin: input });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(report).toMatchObject({
      status: 'succeeded',
      dry_run: false,
      total: { received: 4, created: 2, rejected: 2 },
      objects: { 'objects[0]': { received: 4, created: 2, rejected: 2 } },
      rejected_percent: 50,
      api_calls: 1,
    });
    expect(report.top_rejection_reasons).toEqual(expect.arrayContaining([
      { code: 'INVALID_NUMBER', field: 'amount', count: 1 }, { code: 'INVALID_OPTION', field: 'status', count: 1 },
    ]));
  });

  it('ends non-zero above warnings.max_rejected_percent after writing what it could, and calls the webhook', async () => {
    const received: unknown[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c)).on('end', () => { received.push(JSON.parse(body)); res.end('ok'); });
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    try {
      const { config, env } = setup({ warnings: { max_rejected_percent: 25, webhook_url: `http://127.0.0.1:${port}/hook` } });
      const run = await runCli(['write', '--config', config], { entry: 'memory', env, stdin: input });
      expect(run.code).toBe(1);
      const [trace] = errorTraces(run.messages);
      expect(trace.trace.error.failure_type).toBe('config_error');
      expect(trace.trace.error.message).toMatch(/2 of 4 rows rejected \(50%\), above warnings.max_rejected_percent 25%; top reasons: INVALID_NUMBER \[amount\] ×1, INVALID_OPTION \[status\] ×1/);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ text: expect.stringContaining('2 of 4 rows rejected'), report: { status: 'warning' } });
    } finally {
      server.close();
    }
  });

  it('stays green under the threshold', async () => {
    const { config, env } = setup({ warnings: { max_rejected_percent: 60 } });
    const run = await runCli(['write', '--config', config], { entry: 'memory', env, stdin: input });
    expect(run.code).toBe(0);
  });
});

describe('progress while running', () => {
  // 400 rows in 40 writes of up to 40 ms each, one at a time: a run of about a second.
  const slowCrm = (dumpPath: string) => ({ MEMORY_CRM: JSON.stringify({ objects: { items: FIELDS }, batchSize: 10, concurrency: 1, maxLatencyMs: 40, dumpPath }) });
  const rows = Array.from({ length: 400 }, (_, i) => JSON.stringify({ id: `k${i}`, amount: i, status: 'ok' }));
  const progressLine = /(\d+) rows read, (\d+) done, \d+ rows\/s/;

  it('sends Airbyte a LOG message every --progress-every seconds, counting rows read and done', async () => {
    const { dir, config } = setup();
    const run = await runCli(['write', '--config', config, '--progress-every', '0.2'], { entry: 'memory', env: slowCrm(join(dir, 'crm.json')), stdin: rows });
    expect(run.code, run.stderr).toBe(0);
    const logs = byType(run.messages, 'LOG').map((m) => m.log.message as string).filter((message) => progressLine.test(message));
    expect(logs.length).toBeGreaterThan(1);
    const [, read, done] = progressLine.exec(logs.at(-1)!)!;
    expect(Number(done)).toBeLessThanOrEqual(Number(read));
    expect(Number(read)).toBeLessThanOrEqual(400);
  });

  it('keeps one live line on a terminal, cleared before the summary', async () => {
    const { dir, config } = setup();
    const input = join(dir, 'rows.jsonl');
    writeFileSync(input, `${rows.join('\n')}\n`);
    const cli = join(repoRoot, 'test/support/memory-cli.ts');
    const command = `${process.execPath} --no-warnings ${cli} write --config ${config} --progress-every 0.2 < ${input} > ${join(dir, 'stdout')}`;
    // script(1) gives the CLI a terminal for stderr; stdin and stdout stay files.
    const terminal = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', env: { ...process.env, ...slowCrm(join(dir, 'crm.json')) }, timeout: 60_000 });
    expect(terminal.status, terminal.stdout).toBe(0);
    expect(terminal.stdout).toMatch(/\r\d+ rows read, \d+ done, \d+ rows\/s\u001b\[K/);
    expect(terminal.stdout).toMatch(/\r\u001b\[Kcrm-activate: run finished/);
  });
});
