// The benchmark's runs. Each CLI run is a scenario: an emulator (in its own process) + a config +
// an input file, with the outcome it must have (every row created, or unchanged, or 1 % updated).
// A run whose outcome is wrong is reported as a failure whatever its speed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChild, type ChildResult } from './child.js';
import { EmulatorProcess } from './emulator-process.js';
import { benchFile, cliEntry, productNodeOptions } from './paths.js';
import { STATE_EVERY, writeRowFile, type InputFormat } from './rows.js';
import type { BenchTarget, EmulatorStats, Pace, RateLimit, WriteVariant } from './target.js';

export interface BenchSettings {
  target: BenchTarget;
  rows: number;
  format: InputFormat;
  quick: boolean;
  workDir: string;
  /** Pass --cpu-prof to every CLI run, profiles written here. */
  profileDir?: string;
  /** Scenario ids to run (all when undefined). */
  only?: Set<string>;
  log(line: string): void;
}

export interface Counts {
  received: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  [status: string]: number;
}

export interface CliMeasure {
  id: string;
  title: string;
  rows: number;
  /** Rows that had to be written (new or changed): what the minimum write calls are counted from. */
  toWrite: number;
  wallMs: number;
  cpuMs: number;
  maxRssMb: number;
  /** Peak RSS in each quarter of the run. */
  rssQuartersMb: number[];
  rowsPerSec: number;
  /** Requests the emulator received during the run (auth, metadata, writes, job polls…). */
  requests: number;
  writeCalls: number;
  minWriteCalls: number;
  /** Bulk API jobs created, and requests per job (creation, upload, close, polls, result files). */
  jobs: number;
  requestsPerJob: number;
  counts: Counts;
  emulator: EmulatorStats;
  /** What went wrong (exit code, counts, rows missing in the CRM); empty when the run was right. */
  problems: string[];
}

export interface BaselineMeasure {
  rows: number;
  /** Best of the repeats: the floor is the fastest the machine parsed the file. */
  wallMs: number;
  cpuMs: number;
  rowsPerSec: number;
}

export interface ThrottleMeasure {
  run: CliMeasure;
  limit: RateLimit;
  /** Rows per second the limit allows in steady state: max requests × batch rows ÷ interval. */
  ceilingRowsPerSec: number;
  /** Earliest the emulator could accept the run's last request under a rolling window. */
  idealSpanMs: number;
  /** When it did, after the first. */
  actualSpanMs: number;
  fraction: number;
}

export interface LatencyMeasure {
  run: CliMeasure;
  /** The same number of rows (other keys), written the same way without latency, just before. */
  reference: CliMeasure;
  /** Written as this variant; the target's default way when undefined. */
  variant?: WriteVariant;
  latencyMs: number;
  /** Rows per second from the first write call's arrival to the last request's arrival plus the latency (about its answer). */
  writeRowsPerSec: number;
  referenceWriteRowsPerSec: number;
  /** One request at a time: rows ÷ (write calls × requests per write × latency). */
  serialRowsPerSec: number;
  /** The highest rate ceiling the CRM sells, in rows per second; none when it sells no rate. */
  topCeilingRowsPerSec?: number;
}

/** A variant's own initial load (into keys no other run uses) and latency run. */
export interface VariantMeasure {
  variant: WriteVariant;
  load?: CliMeasure;
  latency?: LatencyMeasure;
}

export interface BenchResults {
  baseline?: BaselineMeasure;
  load?: CliMeasure;
  unchanged?: CliMeasure;
  changed?: CliMeasure;
  latency?: LatencyMeasure;
  throttled?: ThrottleMeasure;
  variants?: VariantMeasure[];
}

export const SCENARIO_IDS = ['baseline', 'load', 'unchanged', 'changed', 'latency', 'throttled', 'variants'] as const;

/** Every run of the CLI in the results, in the order they appear in the tables. */
export function cliRuns(results: BenchResults): CliMeasure[] {
  const runs = [results.load, results.unchanged, results.changed, results.latency?.reference, results.latency?.run, results.throttled?.run];
  for (const v of results.variants ?? []) runs.push(v.load, v.latency?.reference, v.latency?.run);
  return runs.filter((run): run is CliMeasure => run !== undefined);
}

/** Share of rows changed in the rerun. */
const CHANGED_EVERY = 100;
const BASELINE_REPEATS = 3;

interface Sizes {
  throttle?: { limit: RateLimit; rows: number };
  latency: { ms: number; rows: number };
}

/** Throttled writing for three full intervals after the first (30 s at 100 per 10 s). */
const THROTTLED_INTERVALS = 3;

/** Full: ~30 s of throttled writing. Quick: the same code over a few seconds (a tenth of the budget, a twentieth of the interval). */
function sizes(settings: BenchSettings): Sizes {
  const { target, quick } = settings;
  const base = target.throttleLimit;
  const limit = base && quick ? { max: Math.max(1, Math.round(base.max / 10)), intervalMs: Math.max(100, base.intervalMs / 20) } : base;
  return {
    throttle: limit && { limit, rows: THROTTLED_INTERVALS * limit.max * target.batchMax },
    latency: quick ? { ms: 20, rows: Math.min(settings.rows, 2_000) } : { ms: 100, rows: target.latencyRows ?? 20_000 },
  };
}

export async function runBenchmark(settings: BenchSettings): Promise<BenchResults> {
  const { target, rows, workDir, log } = settings;
  const wanted = (id: string) => !settings.only || settings.only.has(id);
  const size = sizes(settings);
  const results: BenchResults = {};
  const input = (name: string) => join(workDir, `${name}.${settings.format === 'airbyte' ? 'airbyte' : ''}jsonl`);

  log(`generating ${rows.toLocaleString('en-US')} rows (${settings.format})`);
  const format = settings.format;
  await writeRowFile(input('rows'), { rows, format });
  const changedFile = await writeRowFile(input('changed'), { rows, format, changedEvery: CHANGED_EVERY });

  if (wanted('baseline')) results.baseline = await measureBaseline(settings, input('rows'), rows);

  const unlimited: Pace = { kind: 'unlimited' };
  const needsUnlimited = ['load', 'unchanged', 'changed', 'latency', 'variants'].some(wanted);
  const emulator = needsUnlimited ? await EmulatorProcess.start(target, unlimited) : undefined;
  try {
    if (emulator) {
      const state = join(workDir, 'state.db');
      const run = (id: string, title: string, file: string, count: number, toWrite: number, expect: Partial<Counts>) =>
        runCliScenario(settings, { id, title, emulator, inputPath: file, rows: count, toWrite, statePath: state, pace: unlimited, expect });
      // The rerun scenarios need the load's store and records.
      const needsLoad = wanted('load') || wanted('unchanged') || wanted('changed');
      const how = target.defaultTitle ? `, ${target.defaultTitle}` : '';
      if (needsLoad) results.load = await run('load', `initial load (upsert)${how}`, input('rows'), rows, rows, { created: rows });
      if (wanted('unchanged')) results.unchanged = await run('unchanged', 'rerun, nothing changed', input('rows'), rows, 0, { unchanged: rows });
      if (wanted('changed')) {
        results.changed = await run('changed', `rerun, ${100 / CHANGED_EVERY} % changed`, input('changed'), rows, changedFile.changed,
          { updated: changedFile.changed, unchanged: rows - changedFile.changed });
      }
      // Each run below writes keys of its own (a slot of them past the input's), so none updates another's records.
      if (wanted('latency')) results.latency = await measureLatency(settings, emulator, size.latency, { keySlot: 1 });
      if (wanted('variants') && target.variants) {
        results.variants = [];
        for (const [i, variant] of target.variants.entries()) {
          const keySlot = 3 + 3 * i;
          const file = join(workDir, `${variant.id}-load.jsonl`);
          await writeRowFile(file, { rows, format, firstKey: keyOffset(settings, keySlot) });
          const load = await runCliScenario(settings, {
            id: `load-${variant.id}`, title: `initial load (upsert), ${variant.title}`, emulator, inputPath: file, rows, toWrite: rows,
            statePath: join(workDir, `state-${variant.id}.db`), pace: unlimited, expect: { created: rows }, variant: variant.id,
          });
          const latencySize = variant.latencyRows && !settings.quick ? { ...size.latency, rows: variant.latencyRows } : size.latency;
          const latency = await measureLatency(settings, emulator, latencySize, { keySlot: keySlot + 1, variant });
          results.variants.push({ variant, load, latency });
        }
      }
    }
  } finally {
    await emulator?.close();
  }
  if (wanted('throttled') && size.throttle) results.throttled = await measureThrottled(settings, size.throttle, input('throttled'));
  return results;
}

async function measureBaseline(settings: BenchSettings, path: string, rows: number): Promise<BaselineMeasure> {
  let best: ChildResult | undefined;
  for (let i = 0; i < BASELINE_REPEATS; i++) {
    const run = await runChild({ script: benchFile('parse-only.js'), args: [], stdinPath: path, workDir: settings.workDir, name: 'parse-only' });
    if (run.code !== 0 || Number(run.stdout.trim()) !== rows + statesIn(settings, rows)) {
      throw new Error(`the parse-only baseline failed (exit ${run.code}, ${run.stdout.trim()} rows): ${run.stderr}`);
    }
    if (!best || run.wallMs < best.wallMs) best = run;
  }
  settings.log(`parse-only baseline: ${Math.round(best!.wallMs)} ms`);
  return { rows, wallMs: best!.wallMs, cpuMs: best!.cpuMs, rowsPerSec: rows / (best!.wallMs / 1000) };
}

/** First key of the `slot`-th set of extra keys: past the input's, and past every smaller slot's. */
function keyOffset(settings: BenchSettings, slot: number): number {
  return slot * 10 * Math.max(settings.rows, 100_000);
}

/**
 * The same number of new rows twice, written the same way: without latency, then with every
 * request held `size.ms`. Write rate: rows ÷ the time from the first write call's arrival to the
 * arrival of the run's last request plus the latency (a Bulk API job's last request reads its result file).
 */
async function measureLatency(settings: BenchSettings, emulator: EmulatorProcess, size: Sizes['latency'], where: { keySlot: number; variant?: WriteVariant }): Promise<LatencyMeasure> {
  const { target } = settings;
  const { variant } = where;
  const suffix = variant ? `-${variant.id}` : '';
  const named = variant ? `, ${variant.title}` : target.defaultTitle ? `, ${target.defaultTitle}` : '';
  const run = async (id: string, title: string, firstKey: number, latencyMs: number) => {
    const path = join(settings.workDir, `${id}.jsonl`);
    await writeRowFile(path, { rows: size.rows, format: settings.format, firstKey });
    if (latencyMs > 0) await emulator.addLatency(latencyMs);
    try {
      const measure = await runCliScenario(settings, {
        id, title, emulator, inputPath: path, rows: size.rows, toWrite: size.rows,
        statePath: join(settings.workDir, `state-${id}.db`), pace: { kind: 'unlimited' }, expect: { created: size.rows }, variant: variant?.id,
      });
      const spanMs = measure.emulator.lastAcceptedAt - measure.emulator.firstWriteAt + latencyMs;
      return { measure, writeRowsPerSec: size.rows / (spanMs / 1000) };
    } finally {
      if (latencyMs > 0) await emulator.clearLatency();
    }
  };
  const base = keyOffset(settings, where.keySlot);
  const reference = await run(`latency-reference${suffix}`, `initial load, no latency${named}`, base, 0);
  const delayed = await run(`latency${suffix}`, `initial load, ${size.ms} ms per request${named}`, base + size.rows, size.ms);
  const top = target.topRateLimit;
  const writes = target.minimumWriteCalls(size.rows, variant?.id);
  return {
    run: delayed.measure, reference: reference.measure, variant, latencyMs: size.ms,
    writeRowsPerSec: delayed.writeRowsPerSec,
    referenceWriteRowsPerSec: reference.writeRowsPerSec,
    // One write at a time, each paying the latency once per request it makes.
    serialRowsPerSec: size.rows / ((Math.max(1, writes) * Math.max(1, requestsPerWrite(delayed.measure)) * size.ms) / 1000),
    topCeilingRowsPerSec: top && (top.max * target.batchMax) / (top.intervalMs / 1000),
  };
}

/** Requests one write costs: one per batch call, or a job's creation, upload, close, polls and result files. */
function requestsPerWrite(run: CliMeasure): number {
  return run.jobs > 0 ? run.requestsPerJob : 1;
}

async function measureThrottled(settings: BenchSettings, size: NonNullable<Sizes['throttle']>, path: string): Promise<ThrottleMeasure> {
  const { target } = settings;
  await writeRowFile(path, { rows: size.rows, format: settings.format });
  const pace: Pace = { kind: 'throttled', limit: size.limit };
  const emulator = await EmulatorProcess.start(target, pace);
  try {
    settings.log(`throttled run: ${size.rows} rows at ${size.limit.max} requests per ${size.limit.intervalMs} ms`);
    const run = await runCliScenario(settings, {
      id: 'throttled', title: `initial load at ${size.limit.max} requests / ${size.limit.intervalMs / 1000} s`, emulator, inputPath: path,
      rows: size.rows, toWrite: size.rows, statePath: join(settings.workDir, 'state-throttled.db'), pace, expect: { created: size.rows },
    });
    const { accepted, firstAcceptedAt, lastAcceptedAt } = run.emulator;
    // Under a rolling window of `max` per interval, request k (from 0) can be accepted no earlier
    // than floor(k / max) intervals after the first.
    const idealSpanMs = Math.floor((accepted - 1) / size.limit.max) * size.limit.intervalMs;
    const actualSpanMs = lastAcceptedAt - firstAcceptedAt;
    return {
      run, limit: size.limit,
      ceilingRowsPerSec: (size.limit.max * target.batchMax) / (size.limit.intervalMs / 1000),
      idealSpanMs, actualSpanMs,
      fraction: actualSpanMs > 0 ? idealSpanMs / actualSpanMs : 1,
    };
  } finally {
    await emulator.close();
  }
}

interface CliScenario {
  id: string;
  title: string;
  emulator: EmulatorProcess;
  inputPath: string;
  rows: number;
  toWrite: number;
  statePath: string;
  pace: Pace;
  expect: Partial<Counts>;
  variant?: string;
}

async function runCliScenario(settings: BenchSettings, scenario: CliScenario): Promise<CliMeasure> {
  const { target, workDir } = settings;
  const configPath = join(workDir, `${scenario.id}.config.json`);
  const reportPath = join(workDir, `${scenario.id}.report.json`);
  writeFileSync(configPath, JSON.stringify(target.config(scenario.emulator.url, scenario.statePath, scenario.pace, scenario.variant), null, 2));
  const recordsBefore = (await scenario.emulator.stats()).records;
  await scenario.emulator.reset();
  settings.log(`${scenario.id}: ${scenario.title}, ${scenario.rows.toLocaleString('en-US')} rows`);
  const profile = settings.profileDir ? ['--cpu-prof', '--cpu-prof-dir', settings.profileDir, '--cpu-prof-name', `${scenario.id}.cpuprofile`] : [];
  const child = await runChild({
    nodeFlags: [...productNodeOptions(), ...profile], script: cliEntry, args: ['write', '--config', configPath, '--report', reportPath],
    stdinPath: scenario.inputPath, workDir, name: scenario.id,
  });
  const emulator = await scenario.emulator.stats();
  const report = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, 'utf8')) as { total: Counts } : undefined;
  const counts: Counts = report?.total ?? { received: 0, created: 0, updated: 0, unchanged: 0, rejected: 0 };
  const problems = checkRun(settings, scenario, child, counts, emulator, recordsBefore);
  for (const problem of problems) settings.log(`  PROBLEM: ${problem}`);
  return {
    id: scenario.id, title: scenario.title, rows: scenario.rows, toWrite: scenario.toWrite,
    wallMs: child.wallMs, cpuMs: child.cpuMs, maxRssMb: child.maxRssMb, rssQuartersMb: child.rssQuartersMb, rowsPerSec: scenario.rows / (child.wallMs / 1000),
    requests: emulator.requests, writeCalls: emulator.writeCalls, minWriteCalls: target.minimumWriteCalls(scenario.toWrite, scenario.variant),
    jobs: emulator.jobs, requestsPerJob: emulator.jobs > 0 ? emulator.jobRequests / emulator.jobs : 0,
    counts, emulator, problems,
  };
}

function checkRun(settings: BenchSettings, scenario: CliScenario, child: ChildResult, counts: Counts, emulator: EmulatorStats, recordsBefore: number): string[] {
  const problems: string[] = [];
  if (child.code !== 0) problems.push(`the CLI exited ${child.code ?? child.signal}: ${lastLines(child.stderr)}`);
  if (counts.received !== scenario.rows) problems.push(`received ${counts.received} of ${scenario.rows} rows`);
  if (counts.rejected > 0) problems.push(`${counts.rejected} rows rejected: ${lastLines(child.stderr)}`);
  for (const [status, expected] of Object.entries(scenario.expect)) {
    if (counts[status] !== expected) problems.push(`${status}: ${counts[status]}, expected ${expected}`);
  }
  const created = scenario.expect.created ?? 0;
  if (emulator.records !== recordsBefore + created) problems.push(`the CRM holds ${emulator.records - recordsBefore} new records, expected ${created}`);
  if (emulator.errors > 0) problems.push(`${emulator.errors} requests failed at the emulator`);
  if (settings.format === 'airbyte') {
    const states = child.stdout.split('\n').filter((line) => line.includes('"STATE"')).length;
    if (states !== statesIn(settings, scenario.rows)) problems.push(`${states} STATE messages echoed, expected ${statesIn(settings, scenario.rows)}`);
  }
  return problems;
}

function statesIn(settings: BenchSettings, rows: number): number {
  return settings.format === 'airbyte' ? Math.ceil(rows / STATE_EVERY) : 0;
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}
