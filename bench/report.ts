// Turns the measurements into the two tables the benchmark prints and keeps in BENCHMARKS.md:
// every run with its numbers, then every target of issue 7 with the measured value and a verdict.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { machineLine, type Machine } from './machine.js';
import { cliRuns, type BenchResults, type CliMeasure, type LatencyMeasure, type LinksMeasure } from './scenarios.js';
import type { BenchTarget, RequestKind } from './target.js';

export type Status = 'met' | 'gap' | 'failed' | 'not run' | 'not measured' | 'not applicable';

export interface Verdict {
  target: string;
  measured: string;
  status: Status;
}

export interface BenchHeader {
  crm: string;
  rows: number;
  format: string;
  quick: boolean;
  /** The scenarios run when not all (--only): such a run's tables are kept apart from the full run's. */
  only?: string[];
  /** Run without package.json's config.nodeOptions (--bare): kept apart from the runs with them. */
  bare?: boolean;
  machine: Machine;
  date: Date;
  durationMs: number;
}

const PIPELINE_SHARE = 0.5;
/** Without a rate ceiling (Salesforce), latency is hidden when writing goes at least this fast as without it. */
const LATENCY_SHARE = 0.75;
const THROTTLE_SHARE = 0.95;
/** Two runs side by side on one account: together this much of the ceiling, at most this share answered 429. */
const SHARED_SHARE = 0.9;
const SHARED_429_SHARE = 0.01;
const RSS_LIMIT_MB = 200;
const RSS_TARGET_ROWS = 1_000_000;
/** "Not growing with N": the load's last quarter may peak at most this much above its second (the first is start-up). */
const RSS_GROWTH_ALLOWED = 1.1;

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const sec = (ms: number) => (ms / 1000).toFixed(2);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const plural = (n: number, noun: string) => `${int(n)} ${noun}${n === 1 ? '' : 's'}`;
const mb = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : '?');

export function runsTable(results: BenchResults): string {
  const header = '| run | rows | wall s | rows/s | CLI CPU s | emulator CPU s | requests | write calls | minimum | peak RSS MB |';
  const lines = [header, '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  const { baseline } = results;
  if (baseline) {
    lines.push(`| parse-only baseline (split2 + JSON.parse, best of 3) | ${int(baseline.rows)} | ${sec(baseline.wallMs)} | ${int(baseline.rowsPerSec)} | ${sec(baseline.cpuMs)} | – | – | – | – | – |`);
  }
  for (const run of cliRuns(results)) {
    const flag = run.problems.length > 0 ? ' **(FAILED)**' : '';
    lines.push(`| ${run.title}${flag} | ${int(run.rows)} | ${sec(run.wallMs)} | ${int(run.rowsPerSec)} | ${sec(run.cpuMs)} | ${sec(run.emulator.cpuMs)} | ${int(run.requests)} | ${int(run.writeCalls)} | ${int(run.minWriteCalls)} | ${mb(run.maxRssMb)} |`);
  }
  return lines.join('\n');
}

const LINK_KINDS: RequestKind[] = ['record write', 'target read', 'association call'];
const callsOf = (run: CliMeasure, kind: RequestKind) => run.emulator.kinds[kind] ?? 0;

/** Issue 15's links run: each run's calls of each kind beside their minimum. */
export function linksTable(links: LinksMeasure): string {
  const lines = ['| links run | rows | record writes | target reads | association calls | minimum (writes / reads / association calls) |', '| --- | ---: | ---: | ---: | ---: | ---: |'];
  const runs: [CliMeasure, LinksMeasure['loadMinimum']][] = [[links.load, links.loadMinimum], [links.rerun, links.rerunMinimum]];
  for (const [run, minimum] of runs) {
    lines.push(`| ${run.title} | ${int(run.rows)} | ${LINK_KINDS.map((kind) => int(callsOf(run, kind))).join(' | ')} | ${LINK_KINDS.map((kind) => int(minimum[kind])).join(' / ')} |`);
  }
  return lines.join('\n');
}

export function verdicts(target: BenchTarget, results: BenchResults, rows: number): Verdict[] {
  const list: Verdict[] = [];
  const { baseline, load, unchanged, changed, latency, throttled } = results;

  if (baseline && load) {
    const share = load.rowsPerSec / baseline.rowsPerSec;
    const cpuShare = (baseline.cpuMs / baseline.rows) / (load.cpuMs / load.rows);
    list.push({
      target: `pipeline ≥ ${pct(PIPELINE_SHARE)} of parse-only rows/s, no latency`,
      measured: `${int(load.rowsPerSec)} vs ${int(baseline.rowsPerSec)} rows/s = ${pct(share)} (CPU per row: ${pct(cpuShare)})`,
      status: share >= PIPELINE_SHARE ? 'met' : 'gap',
    });
  } else list.push(notRun(`pipeline ≥ ${pct(PIPELINE_SHARE)} of parse-only rows/s, no latency`));

  if (throttled) {
    const { run } = throttled;
    const failed = run.rows - (run.counts.created + run.counts.updated + run.counts.unchanged);
    const ok = throttled.fraction >= THROTTLE_SHARE && failed === 0 && run.problems.length === 0;
    list.push({
      target: `≥ ${pct(THROTTLE_SHARE)} of the rate-limit ceiling, zero failed rows`,
      measured: `${pct(throttled.fraction)} of ${int(throttled.ceilingRowsPerSec)} rows/s (${throttled.limit.max} per ${throttled.limit.intervalMs / 1000} s: `
        + `${run.emulator.accepted} requests in ${sec(throttled.actualSpanMs)} s, shortest possible ${sec(throttled.idealSpanMs)} s); `
        + `${failed} failed rows; ${run.emulator.rateLimited} answered 429`,
      status: ok ? 'met' : 'gap',
    });
  } else if (!target.throttleLimit) {
    list.push({
      target: `≥ ${pct(THROTTLE_SHARE)} of the rate-limit ceiling, zero failed rows`,
      measured: `${target.crm} has no rolling-window rate limit (a daily request allowance and a cap on concurrent long-running requests): no throttled run`,
      status: 'not applicable',
    });
  } else list.push(notRun(`≥ ${pct(THROTTLE_SHARE)} of the rate-limit ceiling, zero failed rows`));

  list.push(...budgetVerdicts(target, results));
  list.push(linksVerdict(target, results.links));

  const writers = cliRuns(results);
  const writeTarget = `write calls at the minimum, ${target.minimumRule}`;
  if (writers.length > 0) {
    const over = writers.filter((r) => r.writeCalls > r.minWriteCalls);
    list.push({
      target: writeTarget,
      measured: writers.map((r) => `${r.id} ${int(r.writeCalls)} (min ${int(r.minWriteCalls)}${r.jobs > 0 ? `; ${plural(r.jobs, 'job')}, ${r.requestsPerJob.toFixed(1)} requests each` : ''})`).join('; '),
      status: over.length === 0 ? 'met' : 'gap',
    });
  } else list.push(notRun(writeTarget));

  if (unchanged || changed) {
    const parts: string[] = [];
    let ok = true;
    if (unchanged) {
      parts.push(`rerun: ${plural(unchanged.writeCalls, 'write call')} for ${int(unchanged.counts.unchanged)} unchanged rows`);
      ok &&= unchanged.writeCalls === 0;
    }
    if (changed) {
      parts.push(`1 % rerun: ${plural(changed.writeCalls, 'write call')} for ${int(changed.counts.updated)} changed + ${int(changed.counts.unchanged)} unchanged rows`);
      ok &&= changed.writeCalls === changed.minWriteCalls;
    }
    list.push({ target: 'zero calls for unchanged rows', measured: parts.join('; '), status: ok ? 'met' : 'gap' });
  } else list.push(notRun('zero calls for unchanged rows'));

  // Every run over the whole input counts: the load, and the reruns, where changed rows wait for
  // a full batch while the rest of the input streams past.
  const fullRuns = [load, unchanged, changed].filter((r): r is CliMeasure => r !== undefined);
  if (fullRuns.length > 0) {
    // Below the target's size only a miss is conclusive: memory that is flat in N misses at any N.
    const atTarget = rows >= RSS_TARGET_ROWS;
    const under = fullRuns.every((run) => run.maxRssMb < RSS_LIMIT_MB);
    list.push({
      target: `peak RSS < ${RSS_LIMIT_MB} MB at ${int(RSS_TARGET_ROWS)} rows`,
      measured: `${fullRuns.map((run) => `${run.id} ${mb(run.maxRssMb)} MB`).join(', ')} at ${int(rows)} rows`
        + (atTarget ? '' : ` (npm run bench -- --rows ${RSS_TARGET_ROWS} measures the target's size)`),
      status: !under ? 'gap' : atTarget ? 'met' : 'not measured',
    });
  } else list.push(notRun(`peak RSS < ${RSS_LIMIT_MB} MB at ${int(RSS_TARGET_ROWS)} rows`));

  if (load) {
    const [, second, , last] = load.rssQuartersMb;
    const growth = last / second;
    // A run shorter than a few samples leaves quarters without one.
    const sampled = Number.isFinite(growth);
    list.push({
      target: 'peak RSS not growing with N',
      measured: `initial load of ${int(load.rows)} rows, peak per quarter of the run: ${load.rssQuartersMb.map(mb).join(', ')} MB`
        + (sampled ? ` (last ÷ second: × ${growth.toFixed(2)})` : ' (too short to sample every quarter)'),
      status: !sampled ? 'not measured' : growth <= RSS_GROWTH_ALLOWED ? 'met' : 'gap',
    });
  } else list.push(notRun('peak RSS not growing with N'));

  const latencies = [latency, ...(results.variants ?? []).map((v) => v.latency)].filter((l): l is LatencyMeasure => l !== undefined);
  if (latencies.length > 0) list.push(...latencies.map(latencyVerdict));
  else list.push(notRun('latency hidden by concurrency'));

  const failures = cliRuns(results).filter((r) => r.problems.length > 0);
  list.push({
    target: 'every run correct (exit 0, counts as expected, every row in the CRM; the quota run: stopped as it must)',
    measured: failures.length === 0 ? 'yes' : failures.map((r) => `${r.id}: ${r.problems.join('; ')}`).join(' / '),
    status: failures.length === 0 ? 'met' : 'failed',
  });
  return list;
}

/** Issue 16: the account's real ceiling with the default config, alone and side by side, and the quota share. */
function budgetVerdicts(target: BenchTarget, results: BenchResults): Verdict[] {
  const list: Verdict[] = [];
  const { ceiling, shared, quota } = results;
  const ceilingTarget = `default config: ≥ ${pct(THROTTLE_SHARE)} of the ceiling HubSpot grants, zero 429s`;
  if (ceiling) {
    const { run } = ceiling;
    list.push({
      target: ceilingTarget,
      measured: `${pct(ceiling.fraction)} of ${int(ceiling.ceilingRowsPerSec)} rows/s (${ceiling.limit.max} per ${ceiling.limit.intervalMs / 1000} s, found in HubSpot's answers: `
        + `${run.emulator.accepted} requests in ${sec(ceiling.actualSpanMs)} s, shortest possible ${sec(ceiling.idealSpanMs)} s); ${run.emulator.rateLimited} answered 429`,
      status: ceiling.fraction >= THROTTLE_SHARE && run.emulator.rateLimited === 0 && run.problems.length === 0 ? 'met' : 'gap',
    });
  } else list.push(target.ceilingLimit ? notRun(ceilingTarget) : notApplicable(ceilingTarget, `${target.crm} reports no rolling-window budget to find`));

  const sharedTarget = `two runs on one account: together ≥ ${pct(SHARED_SHARE)} of the ceiling, ≤ ${pct(SHARED_429_SHARE)} answered 429`;
  if (shared) {
    const stats = shared.runs[0].emulator;
    list.push({
      target: sharedTarget,
      measured: `${pct(shared.fraction)} of ${int(shared.ceilingRowsPerSec)} rows/s together (${stats.accepted} requests in ${sec(shared.actualSpanMs)} s, shortest possible ${sec(shared.idealSpanMs)} s; `
        + `the runs took ${shared.runs.map((r) => sec(r.wallMs)).join(' s and ')} s); ${stats.rateLimited} of ${stats.requests} answered 429 (${pct(shared.rateLimitedShare)})`,
      status: shared.fraction >= SHARED_SHARE && shared.rateLimitedShare <= SHARED_429_SHARE && shared.runs.every((r) => r.problems.length === 0) ? 'met' : 'gap',
    });
  } else list.push(target.ceilingLimit ? notRun(sharedTarget) : notApplicable(sharedTarget, `${target.crm} has no rolling window to share`));

  const quotaTarget = "stops at the API quota share (crm.max_api_usage_percent) with every written row's state emitted";
  if (quota) {
    const { run } = quota;
    list.push({
      target: quotaTarget,
      measured: `exit ${run.exitCode}; the org's usage ${int(quota.used)} of ${int(quota.dailyApiRequests)} (share ${quota.percent} %), ${run.emulator.refused} requests refused; `
        + `last STATE through row ${int(quota.rowsThroughLastState)} of ${int(run.rows)}, ${int(quota.rowsInCrm)} rows in the CRM`,
      status: run.problems.length === 0 ? 'met' : 'failed',
    });
  } else list.push(target.quota ? notRun(quotaTarget) : notApplicable(quotaTarget, `a Salesforce run (${target.crm}'s daily budget stop is tested in test/hubspot/budgets.test.ts)`));
  return list;
}

const LINKS_TARGET = 'per batch of 100 rows: 1 record write, 1 target read per target type, 1 association call per target type and label; a rerun: 0 association calls and 0 target reads';

function linksVerdict(target: BenchTarget, links: LinksMeasure | undefined): Verdict {
  if (!links) return target.links ? notRun(LINKS_TARGET) : notApplicable(LINKS_TARGET, `${target.crm} records are linked by no association calls (objects[].associations is HubSpot's)`);
  const { load, rerun } = links;
  const counted = (run: CliMeasure, minimum: LinksMeasure['loadMinimum']) => LINK_KINDS.map((kind) => `${int(callsOf(run, kind))} ${kind}s (min ${int(minimum[kind])})`).join(', ');
  const over = (run: CliMeasure, minimum: LinksMeasure['loadMinimum']) => LINK_KINDS.some((kind) => callsOf(run, kind) > minimum[kind]);
  const failed = load.problems.length > 0 || rerun.problems.length > 0;
  return {
    target: LINKS_TARGET,
    measured: `load of ${int(load.rows)} rows (${int(Math.ceil(load.rows / target.batchMax))} batches; target types: ${links.targetTypes}, target type × label pairs: ${links.targetLabels}): `
      + `${counted(load, links.loadMinimum)}; rerun: ${counted(rerun, links.rerunMinimum)}`,
    status: failed ? 'failed' : over(load, links.loadMinimum) || over(rerun, links.rerunMinimum) ? 'gap' : 'met',
  };
}

function notApplicable(target: string, why: string): Verdict {
  return { target, measured: why, status: 'not applicable' };
}

/**
 * Hidden: writing with the latency still reaches the CRM's highest rate ceiling; without a ceiling
 * (Salesforce), at least LATENCY_SHARE of the rate the same rows were written at without latency.
 */
function latencyVerdict(latency: LatencyMeasure): Verdict {
  const { run, topCeilingRowsPerSec: ceiling } = latency;
  const share = latency.writeRowsPerSec / latency.referenceWriteRowsPerSec;
  // A job pays the latency once per request whatever its rows; batch calls once per call.
  const how = run.jobs > 0
    ? `${plural(run.jobs, 'job')} of ${run.requestsPerJob.toFixed(1)} requests each, ${sec(run.requestsPerJob * latency.latencyMs)} s of latency per job of ${int(run.rows / run.jobs)} rows`
    : `${int(run.writeCalls)} calls; one at a time would give ${int(latency.serialRowsPerSec)} rows/s`;
  const judged = ceiling === undefined
    ? `${pct(share)} of the ${int(latency.referenceWriteRowsPerSec)} rows/s without latency`
    : `the highest rate tier allows ${int(ceiling)} (without latency: ${int(latency.referenceWriteRowsPerSec)})`;
  return {
    target: `${latency.latencyMs} ms per request hidden by concurrency${latency.variant ? ` (${latency.variant.title})` : ''}`,
    measured: `${int(latency.writeRowsPerSec)} rows/s while writing (${how}); ${judged}`,
    status: (ceiling === undefined ? share >= LATENCY_SHARE : latency.writeRowsPerSec >= ceiling) ? 'met' : 'gap',
  };
}

function notRun(target: string): Verdict {
  return { target, measured: '–', status: 'not run' };
}

export function verdictTable(list: Verdict[]): string {
  const lines = ['| target | measured | verdict |', '| --- | --- | --- |'];
  for (const v of list) lines.push(`| ${v.target} | ${v.measured} | ${v.status === 'met' ? 'met' : `**${v.status}**`} |`);
  return lines.join('\n');
}

export function sectionKey(header: BenchHeader): string {
  return `${header.crm} ${header.format} ${header.rows}${header.quick ? ' quick' : ''}${header.only ? ` only ${header.only.join(',')}` : ''}${header.bare ? ' bare' : ''}`;
}

export function section(header: BenchHeader, results: BenchResults, list: Verdict[]): string {
  const title = `${header.crm}, ${int(header.rows)} rows (${header.format}${header.quick ? ', quick' : ''})${header.only ? `, only ${header.only.join(', ')}` : ''}${header.bare ? ', without config.nodeOptions' : ''}`;
  return [
    `### ${title}`,
    '',
    `Measured ${header.date.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machineLine(header.machine)}; the benchmark took ${sec(header.durationMs)} s.`,
    '',
    runsTable(results),
    '',
    ...(results.links ? [linksTable(results.links), ''] : []),
    verdictTable(list),
  ].join('\n');
}

/** Replaces this configuration's section of the results file (or appends it), keeping the rest. */
export function saveSection(path: string, key: string, body: string): void {
  const begin = `<!-- bench: ${key} -->`;
  const end = `<!-- /bench: ${key} -->`;
  const block = `${begin}\n${body}\n${end}`;
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  const next = from >= 0 && to > from ? text.slice(0, from) + block + text.slice(to + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
}
