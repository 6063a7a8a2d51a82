// npm run bench [-- --rows N] [--quick] [--crm hubspot|salesforce] [--format jsonl|airbyte] [--only load,changed,…]
//   [--results FILE|-] [--json FILE] [--profile DIR] [--keep] [--bare]
// Generates the input, runs the real CLI against the emulator (each in its own process), prints
// the runs and the targets of issue 7 as tables, and keeps them in BENCHMARKS.md. Exit 1 when a
// run came out wrong (counts, exit code, rows missing); a target missed is reported, not fatal.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine } from './machine.js';
import { repoRoot } from './paths.js';
import { saveSection, section, sectionKey, verdicts, type BenchHeader } from './report.js';
import type { InputFormat } from './rows.js';
import { runBenchmark, SCENARIO_IDS } from './scenarios.js';
import { TARGETS } from './targets/index.js';

const USAGE = `usage: npm run bench -- [--rows N] [--quick] [--crm ${Object.keys(TARGETS).join('|')}] [--format jsonl|airbyte]
  [--only ${SCENARIO_IDS.join(',')}] [--results FILE|-] [--json FILE] [--profile DIR] [--keep] [--bare]
  --bare: the CLI runs without package.json's config.nodeOptions (as \`node dist/src/main.js\` without NODE_OPTIONS)`;

const DEFAULT_ROWS = 200_000;
const QUICK_ROWS = 2_000;

function options() {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      quick: { type: 'boolean', default: false },
      crm: { type: 'string', default: 'hubspot' },
      format: { type: 'string', default: 'jsonl' },
      only: { type: 'string' },
      results: { type: 'string' },
      json: { type: 'string' },
      profile: { type: 'string' },
      keep: { type: 'boolean', default: false },
      bare: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const rows = values.rows === undefined ? (values.quick ? QUICK_ROWS : DEFAULT_ROWS) : Number(values.rows);
  if (!Number.isInteger(rows) || rows < 100) fail(`--rows must be an integer ≥ 100, not ${values.rows}`);
  const target = TARGETS[values.crm];
  if (!target) fail(`--crm must be one of ${Object.keys(TARGETS).join(', ')}`);
  if (values.format !== 'jsonl' && values.format !== 'airbyte') fail('--format must be jsonl or airbyte');
  const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
  for (const id of only ?? []) if (!(SCENARIO_IDS as readonly string[]).includes(id)) fail(`unknown scenario "${id}"`);
  // Quick runs check the harness, their numbers mean little: they go to BENCHMARKS.md only when asked.
  const results = values.results ?? (values.quick ? '-' : join(repoRoot, 'BENCHMARKS.md'));
  return { ...values, rows, target, format: values.format as InputFormat, only, results };
}

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

const opts = options();
const workDir = mkdtempSync(join(tmpdir(), 'crm-activate-bench-'));
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const started = Date.now();
const machine = describeMachine();
if (opts.profile) mkdirSync(opts.profile, { recursive: true });
try {
  const results = await runBenchmark({
    target: opts.target, rows: opts.rows, format: opts.format, quick: opts.quick, workDir,
    profileDir: opts.profile ? resolve(opts.profile) : undefined, only: opts.only, bare: opts.bare, log,
  });
  const header: BenchHeader = {
    crm: opts.target.crm, rows: opts.rows, format: opts.format, quick: opts.quick, only: opts.only && [...opts.only], bare: opts.bare,
    machine, date: new Date(started), durationMs: Date.now() - started,
  };
  const list = verdicts(opts.target, results, opts.rows);
  const text = section(header, results, list);
  process.stdout.write(`\n${text}\n`);
  if (opts.results !== '-') {
    saveSection(opts.results, sectionKey(header), text);
    log(`results kept in ${opts.results}`);
  }
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ header, results, verdicts: list }, null, 2));
  if (list.some((v) => v.status === 'failed')) process.exitCode = 1;
} finally {
  if (opts.keep) log(`work files kept in ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}
