// The benchmark's runs. Each CLI run is a scenario: an emulator (in its own process) + a config +
// an input file, with the outcome it must have (every row created, or unchanged, or 1 % updated).
// A run whose outcome is wrong is reported as a failure whatever its speed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChild, type ChildResult } from './child.js';
import { EmulatorProcess } from './emulator-process.js';
import { benchFile, cliEntry, productNodeOptions } from './paths.js';
import { STATE_EVERY, writeRowFile, type InputFormat } from './rows.js';
import type { BenchTarget, EmulatorStats, LinksRun, Pace, QuotaRun, RateLimit, RequestKind, WriteVariant } from './target.js';

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
  /** Run the CLI without package.json's config.nodeOptions, as `node dist/src/main.js` runs it. */
  bare?: boolean;
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
  exitCode: number | null;
  /** A run that must stop at the quota share: what it said when it did. */
  quotaStop?: { rowsThroughLastState: number; traceNamesShare: boolean };
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

/** Two runs of the default config side by side on one account (two objects, two pods), neither told of the other. */
export interface SharedMeasure {
  runs: CliMeasure[];
  limit: RateLimit;
  ceilingRowsPerSec: number;
  /** Over both runs' accepted requests, as for a single throttled run. */
  idealSpanMs: number;
  actualSpanMs: number;
  fraction: number;
  /** Share of all requests HubSpot answered 429. */
  rateLimitedShare: number;
}

/** A run into a CRM whose daily quota its share (crm.max_api_usage_percent) runs out half way. */
export interface QuotaMeasure {
  run: CliMeasure;
  dailyApiRequests: number;
  percent: number;
  /** The quota's count when the run ended. */
  used: number;
  /** Rows through the last STATE echoed, and rows the CRM holds. */
  rowsThroughLastState: number;
  rowsInCrm: number;
}

/**
 * Issue 15: records linked to the records their rows name, a load then a rerun of the same rows,
 * each run's record writes, target reads and association calls counted against their minimum.
 */
export interface LinksMeasure {
  load: CliMeasure;
  rerun: CliMeasure;
  /** Target objects, and target object × label pairs, in the associations: the calls per batch are counted from them. */
  targetTypes: number;
  targetLabels: number;
  /** Fewest calls of each kind per run. */
  loadMinimum: Record<RequestKind, number>;
  rerunMinimum: Record<RequestKind, number>;
}

export interface BenchResults {
  baseline?: BaselineMeasure;
  load?: CliMeasure;
  unchanged?: CliMeasure;
  changed?: CliMeasure;
  latency?: LatencyMeasure;
  throttled?: ThrottleMeasure;
  ceiling?: ThrottleMeasure;
  shared?: SharedMeasure;
  quota?: QuotaMeasure;
  variants?: VariantMeasure[];
  links?: LinksMeasure;
}

export const SCENARIO_IDS = ['baseline', 'load', 'unchanged', 'changed', 'latency', 'throttled', 'ceiling', 'shared', 'quota', 'variants', 'links'] as const;

/** Every run of the CLI in the results, in the order they appear in the tables. */
export function cliRuns(results: BenchResults): CliMeasure[] {
  const runs = [results.load, results.unchanged, results.changed, results.latency?.reference, results.latency?.run, results.throttled?.run,
    results.ceiling?.run, ...(results.shared?.runs ?? []), results.quota?.run];
  for (const v of results.variants ?? []) runs.push(v.load, v.latency?.reference, v.latency?.run);
  runs.push(results.links?.load, results.links?.rerun);
  return runs.filter((run): run is CliMeasure => run !== undefined);
}

/** Share of rows changed in the rerun. */
const CHANGED_EVERY = 100;
const BASELINE_REPEATS = 3;

interface Sizes {
  throttle?: { limit: RateLimit; rows: number };
  ceiling?: { limit: RateLimit; rows: number };
  latency: { ms: number; rows: number };
  /** Rows of the quota run: several Bulk API jobs, so the share can stop it between two. */
  quotaRows: number;
}

/** Throttled writing for three full intervals after the first (30 s at 100 per 10 s). */
const THROTTLED_INTERVALS = 3;

/** Full: ~30 s of throttled writing. Quick: the same code over a few seconds (a tenth of the budget, a twentieth of the interval). */
function sizes(settings: BenchSettings): Sizes {
  const { target, quick } = settings;
  const scaled = (base: RateLimit | undefined) => base && quick ? { max: Math.max(1, Math.round(base.max / 10)), intervalMs: Math.max(100, base.intervalMs / 20) } : base;
  const throttled = (limit: RateLimit | undefined) => limit && { limit, rows: THROTTLED_INTERVALS * limit.max * target.batchMax };
  return {
    throttle: throttled(scaled(target.throttleLimit)),
    ceiling: throttled(scaled(target.ceilingLimit)),
    latency: quick ? { ms: 20, rows: Math.min(settings.rows, 2_000) } : { ms: 100, rows: target.latencyRows ?? 20_000 },
    quotaRows: Math.max(settings.rows, QUOTA_JOBS * target.batchMax),
  };
}

/** The quota run's input holds this many write batches at least (Bulk API jobs), and echoes this many STATEs per batch. */
const QUOTA_JOBS = 4;
const QUOTA_STATES_PER_BATCH = 5;

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
  const linked = wanted('links') ? target.links : undefined;
  const needsUnlimited = ['load', 'unchanged', 'changed', 'latency', 'variants'].some(wanted) || linked !== undefined;
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
      if (linked) results.links = await measureLinks(settings, emulator, linked, { keySlot: 2 });
    }
  } finally {
    await emulator?.close();
  }
  if (wanted('throttled') && size.throttle) {
    results.throttled = await measureThrottled(settings, size.throttle, input('throttled'), {
      id: 'throttled', title: `initial load at ${size.throttle.limit.max} requests / ${size.throttle.limit.intervalMs / 1000} s`, connectorDefault: false,
    });
  }
  if (wanted('ceiling') && size.ceiling) {
    results.ceiling = await measureThrottled(settings, size.ceiling, input('ceiling'), {
      id: 'ceiling', title: `initial load, default config, HubSpot granting ${size.ceiling.limit.max} / ${size.ceiling.limit.intervalMs / 1000} s`, connectorDefault: true,
    });
  }
  if (wanted('shared') && size.ceiling) results.shared = await measureShared(settings, size.ceiling);
  if (wanted('quota') && settings.target.quota) results.quota = await measureQuota(settings, settings.target.quota, size.quotaRows);
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

/** Rows of the links run at most: 200 batches, enough to count calls per batch by. */
const LINKS_ROWS = 20_000;

/**
 * Seeds the targets the rows name, then loads rows (keys of their own) linking each record to
 * them, and reruns the same rows: every row created, then every row unchanged.
 */
async function measureLinks(settings: BenchSettings, emulator: EmulatorProcess, links: LinksRun, where: { keySlot: number }): Promise<LinksMeasure> {
  const { target, workDir } = settings;
  for (const { objectType, rows } of links.seed) {
    const seeded = rows();
    settings.log(`links: seeding ${seeded.length.toLocaleString('en-US')} ${objectType}`);
    await emulator.seed(objectType, seeded);
  }
  const rows = Math.min(settings.rows, LINKS_ROWS);
  const inputPath = join(workDir, 'links.jsonl');
  await writeRowFile(inputPath, { rows, format: settings.format, firstKey: keyOffset(settings, where.keySlot) });
  const linkedTo = [...new Set(links.associations.map((a) => a.to))].join(', ');
  const run = (id: string, title: string, toWrite: number, expect: Partial<Counts>) => runCliScenario(settings, {
    id, title, emulator, inputPath, rows, toWrite, statePath: join(workDir, 'state-links.db'), pace: { kind: 'unlimited' }, expect, associations: links.associations,
  });
  const load = await run('links-load', `initial load, each record linked to its ${linkedTo} (associations)`, rows, { created: rows });
  const rerun = await run('links-rerun', `rerun of the linked load, nothing changed`, 0, { unchanged: rows });
  const targetTypes = new Set(links.associations.map((a) => a.to)).size;
  const targetLabels = new Set(links.associations.map((a) => `${a.to}\n${a.label ?? ''}`)).size;
  const batches = Math.ceil(rows / target.batchMax);
  return {
    load, rerun, targetTypes, targetLabels,
    loadMinimum: { 'record write': batches, 'target read': batches * targetTypes, 'association call': batches * targetLabels },
    rerunMinimum: { 'record write': 0, 'target read': 0, 'association call': 0 },
  };
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

/**
 * One run under the CRM's rolling window: the connector told the limit (throttled), or left to its
 * default config, which must find it in HubSpot's answers (ceiling).
 */
async function measureThrottled(settings: BenchSettings, size: NonNullable<Sizes['throttle']>, path: string, how: { id: string; title: string; connectorDefault: boolean }): Promise<ThrottleMeasure> {
  const { target } = settings;
  await writeRowFile(path, { rows: size.rows, format: settings.format });
  const pace: Pace = { kind: 'throttled', limit: size.limit, connectorDefault: how.connectorDefault };
  const emulator = await EmulatorProcess.start(target, pace);
  try {
    settings.log(`${how.id} run: ${size.rows} rows at ${size.limit.max} requests per ${size.limit.intervalMs} ms${how.connectorDefault ? ', default config' : ''}`);
    const run = await runCliScenario(settings, {
      id: how.id, title: how.title, emulator, inputPath: path,
      rows: size.rows, toWrite: size.rows, statePath: join(settings.workDir, `state-${how.id}.db`), pace, expect: { created: size.rows },
    });
    return { run, limit: size.limit, ...windowUse(target, size.limit, run.emulator) };
  } finally {
    await emulator.close();
  }
}

/** How close the accepted requests came to the window's ceiling. */
function windowUse(target: BenchTarget, limit: RateLimit, stats: EmulatorStats): Pick<ThrottleMeasure, 'ceilingRowsPerSec' | 'idealSpanMs' | 'actualSpanMs' | 'fraction'> {
  const { accepted, firstAcceptedAt, lastAcceptedAt } = stats;
  // Under a rolling window of `max` per interval, request k (from 0) can be accepted no earlier
  // than floor(k / max) intervals after the first.
  const idealSpanMs = Math.floor((accepted - 1) / limit.max) * limit.intervalMs;
  const actualSpanMs = lastAcceptedAt - firstAcceptedAt;
  return {
    ceilingRowsPerSec: (limit.max * target.batchMax) / (limit.intervalMs / 1000),
    idealSpanMs, actualSpanMs,
    fraction: actualSpanMs > 0 ? idealSpanMs / actualSpanMs : 1,
  };
}

/**
 * Two runs of the default config at once against one account (one app, its window shared), each
 * into keys of its own: together they must fill the window, and HubSpot must hardly ever refuse.
 */
async function measureShared(settings: BenchSettings, size: NonNullable<Sizes['ceiling']>): Promise<SharedMeasure> {
  const { target } = settings;
  const pace: Pace = { kind: 'throttled', limit: size.limit, connectorDefault: true };
  const rowsEach = Math.ceil(size.rows / 2);
  const emulator = await EmulatorProcess.start(target, pace);
  try {
    settings.log(`shared runs: 2 × ${rowsEach} rows at ${size.limit.max} requests per ${size.limit.intervalMs} ms, default config`);
    const scenarios: CliScenario[] = [];
    for (const side of [0, 1]) {
      const inputPath = join(settings.workDir, `shared-${side}.jsonl`);
      await writeRowFile(inputPath, { rows: rowsEach, format: settings.format, firstKey: keyOffset(settings, 20 + side) });
      scenarios.push({
        id: `shared-${side + 1}`, title: `run ${side + 1} of 2 side by side, default config, one account granting ${size.limit.max} / ${size.limit.intervalMs / 1000} s (requests and write calls: both runs')`,
        emulator, inputPath, rows: rowsEach, toWrite: rowsEach, statePath: join(settings.workDir, `state-shared-${side}.db`), pace, expect: { created: rowsEach },
      });
    }
    const runs = await runCliScenarios(settings, scenarios);
    // The emulator counts both runs' requests together: so are their minimum write calls.
    const minWriteCalls = runs.reduce((sum, run) => sum + run.minWriteCalls, 0);
    for (const run of runs) run.minWriteCalls = minWriteCalls;
    const stats = runs[0].emulator;
    return { runs, limit: size.limit, ...windowUse(target, size.limit, stats), rateLimitedShare: stats.requests > 0 ? stats.rateLimited / stats.requests : 0 };
  } finally {
    await emulator.close();
  }
}

/**
 * A load into an org whose daily quota the connector's share (crm.max_api_usage_percent, default)
 * runs out about half way: the run must stop before passing it, with a transient error naming
 * the usage, no request refused, and a STATE for every row written (Airbyte input whatever --format).
 */
async function measureQuota(settings: BenchSettings, quota: QuotaRun, rows: number): Promise<QuotaMeasure> {
  const { target } = settings;
  const dailyApiRequests = Math.ceil(quota.requestsFor(Math.ceil(rows / 2)) / (quota.defaultPercent / 100));
  const pace: Pace = { kind: 'quota', dailyApiRequests };
  const inputPath = join(settings.workDir, 'quota.airbyte.jsonl');
  await writeRowFile(inputPath, { rows, format: 'airbyte', stateEvery: Math.ceil(target.batchMax / QUOTA_STATES_PER_BATCH) });
  const emulator = await EmulatorProcess.start(target, pace);
  try {
    settings.log(`quota run: ${rows} rows, the org allowing ${dailyApiRequests} API requests a day, default share`);
    const [run] = await runCliScenarios(settings, [{
      id: 'quota', title: `initial load into an org of ${dailyApiRequests} API requests a day, stopping at ${quota.defaultPercent} %`,
      emulator, inputPath, rows, toWrite: rows, statePath: join(settings.workDir, 'state-quota.db'), pace, expect: {}, stopsAtQuota: true,
    }]);
    const rowsThroughLastState = run.quotaStop?.rowsThroughLastState ?? 0;
    const measure: QuotaMeasure = {
      run, dailyApiRequests, percent: quota.defaultPercent, used: run.emulator.quotaUsed, rowsThroughLastState, rowsInCrm: run.emulator.records,
    };
    run.problems.push(...quotaProblems(measure));
    for (const problem of run.problems) settings.log(`  PROBLEM: ${problem}`);
    return measure;
  } finally {
    await emulator.close();
  }
}

function quotaProblems(measure: QuotaMeasure): string[] {
  const { run, dailyApiRequests, percent, used, rowsThroughLastState, rowsInCrm } = measure;
  const problems: string[] = [];
  if (run.exitCode !== 1) problems.push(`the CLI exited ${run.exitCode}, expected 1 (a transient error at the quota share)`);
  if (!run.quotaStop?.traceNamesShare) problems.push('no transient_error TRACE naming crm.max_api_usage_percent');
  if (used > Math.floor((dailyApiRequests * percent) / 100)) problems.push(`the org's usage reached ${used} of ${dailyApiRequests}, past ${percent} %`);
  if (run.emulator.refused > 0) problems.push(`${run.emulator.refused} requests refused by the org`);
  if (rowsThroughLastState === 0 || rowsThroughLastState >= run.rows) problems.push(`the last STATE covers ${rowsThroughLastState} of ${run.rows} rows: the run did not stop part way`);
  if (rowsInCrm < rowsThroughLastState) problems.push(`a STATE covers ${rowsThroughLastState} rows but the CRM holds ${rowsInCrm}`);
  return problems;
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
  /** objects[].associations added to the config's object. */
  associations?: LinksRun['associations'];
  /** The run must stop at the CRM's quota share (exit 1), not write every row. */
  stopsAtQuota?: boolean;
}

function runCliScenario(settings: BenchSettings, scenario: CliScenario): Promise<CliMeasure> {
  return runCliScenarios(settings, [scenario]).then(([measure]) => measure);
}

/** Runs the scenarios' CLIs at once against their (one) emulator; its statistics cover them all. */
async function runCliScenarios(settings: BenchSettings, scenarios: CliScenario[]): Promise<CliMeasure[]> {
  const { target, workDir } = settings;
  const { emulator } = scenarios[0];
  const recordsBefore = (await emulator.stats()).records;
  await emulator.reset();
  const children = await Promise.all(scenarios.map((scenario) => {
    const configPath = join(workDir, `${scenario.id}.config.json`);
    writeFileSync(configPath, JSON.stringify(configOf(target, scenario), null, 2));
    settings.log(`${scenario.id}: ${scenario.title}, ${scenario.rows.toLocaleString('en-US')} rows`);
    const profile = settings.profileDir ? ['--cpu-prof', '--cpu-prof-dir', settings.profileDir, '--cpu-prof-name', `${scenario.id}.cpuprofile`] : [];
    return runChild({
      nodeFlags: [...(settings.bare ? [] : productNodeOptions()), ...profile], script: cliEntry, args: ['write', '--config', configPath, '--report', reportPathOf(workDir, scenario)],
      stdinPath: scenario.inputPath, workDir, name: scenario.id,
    });
  }));
  const stats = await emulator.stats();
  const created = scenarios.reduce((sum, scenario) => sum + (scenario.expect.created ?? 0), 0);
  return scenarios.map((scenario, i) => {
    const child = children[i];
    const reportPath = reportPathOf(workDir, scenario);
    const report = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, 'utf8')) as { total: Counts } : undefined;
    const counts: Counts = report?.total ?? { received: 0, created: 0, updated: 0, unchanged: 0, rejected: 0 };
    const problems = scenario.stopsAtQuota ? [] : checkRun(settings, scenario, child, counts, stats);
    // The CRM's records are checked once for all the runs: the first carries the finding.
    if (i === 0 && !scenario.stopsAtQuota && stats.records !== recordsBefore + created) problems.push(`the CRM holds ${stats.records - recordsBefore} new records, expected ${created}`);
    for (const problem of problems) settings.log(`  PROBLEM: ${problem}`);
    return {
      id: scenario.id, title: scenario.title, rows: scenario.rows, toWrite: scenario.toWrite,
      wallMs: child.wallMs, cpuMs: child.cpuMs, maxRssMb: child.maxRssMb, rssQuartersMb: child.rssQuartersMb, rowsPerSec: scenario.rows / (child.wallMs / 1000),
      requests: stats.requests, writeCalls: stats.writeCalls, minWriteCalls: target.minimumWriteCalls(scenario.toWrite, scenario.variant),
      jobs: stats.jobs, requestsPerJob: stats.jobs > 0 ? stats.jobRequests / stats.jobs : 0,
      counts, emulator: stats, problems, exitCode: child.code,
      ...(scenario.stopsAtQuota ? { quotaStop: quotaStopOf(child.stdout) } : {}),
    };
  });
}

function configOf(target: BenchTarget, scenario: CliScenario): Record<string, unknown> {
  const config = target.config(scenario.emulator.url, scenario.statePath, scenario.pace, scenario.variant);
  if (!scenario.associations) return config;
  // A target's config writes one object: the links run links its records.
  const [object] = config.objects as Record<string, unknown>[];
  return { ...config, objects: [{ ...object, associations: scenario.associations }] };
}

function reportPathOf(workDir: string, scenario: CliScenario): string {
  return join(workDir, `${scenario.id}.report.json`);
}

/** What the CLI said when it stopped: the rows its last STATE covers, and whether its TRACE named the share. */
function quotaStopOf(stdout: string): NonNullable<CliMeasure['quotaStop']> {
  const lines = stdout.split('\n');
  const last = lines.filter((line) => line.includes('"STATE"')).at(-1);
  const trace = lines.find((line) => line.includes('"failure_type":"transient_error"'));
  return {
    rowsThroughLastState: last ? Number(JSON.parse(last).state?.stream?.stream_state?.position ?? 0) : 0,
    traceNamesShare: trace?.includes('crm.max_api_usage_percent') ?? false,
  };
}

function checkRun(settings: BenchSettings, scenario: CliScenario, child: ChildResult, counts: Counts, emulator: EmulatorStats): string[] {
  const problems: string[] = [];
  if (child.code !== 0) problems.push(`the CLI exited ${child.code ?? child.signal}: ${lastLines(child.stderr)}`);
  if (counts.received !== scenario.rows) problems.push(`received ${counts.received} of ${scenario.rows} rows`);
  if (counts.rejected > 0) problems.push(`${counts.rejected} rows rejected: ${lastLines(child.stderr)}`);
  for (const [status, expected] of Object.entries(scenario.expect)) {
    if (counts[status] !== expected) problems.push(`${status}: ${counts[status]}, expected ${expected}`);
  }
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
