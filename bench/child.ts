// Runs one measured child process (the CLI, or the parse-only baseline) with a file as its stdin,
// as a user's pipe would: wall time from spawn to exit, peak RSS and CPU time from the probe.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchFile } from './paths.js';

export interface ChildOptions {
  /** Node flags before the script (e.g. --cpu-prof). */
  nodeFlags?: string[];
  script: string;
  args: string[];
  stdinPath: string;
  /** Where the probe writes its numbers. */
  workDir: string;
  name: string;
  timeoutMs?: number;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
  maxRssMb: number;
  /** Peak RSS in each quarter of the run: the later quarters are no higher if memory is flat. */
  rssQuartersMb: number[];
  cpuMs: number;
  stdout: string;
  stderr: string;
}

const probe = pathToFileURL(benchFile('probe.js')).href;

export async function runChild(options: ChildOptions): Promise<ChildResult> {
  const probeFile = join(options.workDir, `${options.name}.probe.json`);
  rmSync(probeFile, { force: true });
  const stdin = openSync(options.stdinPath, 'r');
  const started = performance.now();
  const child = spawn(process.execPath, ['--no-warnings', '--import', probe, ...(options.nodeFlags ?? []), options.script, ...options.args], {
    stdio: [stdin, 'pipe', 'pipe'],
    env: { ...process.env, CRM_ACTIVATE_BENCH_PROBE: probeFile },
  });
  closeSync(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
  const [code, signal, wallMs] = await new Promise<[number | null, NodeJS.Signals | null, number]>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal, performance.now() - started]));
  });
  clearTimeout(timer);
  await new Promise((resolve) => (child.stdout!.readableEnded ? resolve(undefined) : child.stdout!.once('close', resolve)));
  const usage = existsSync(probeFile) ? (JSON.parse(readFileSync(probeFile, 'utf8')) as ProbeOutput) : undefined;
  return {
    code, signal, wallMs, stdout, stderr,
    maxRssMb: usage ? usage.maxRssKb / 1024 : Number.NaN,
    rssQuartersMb: usage ? quarters(usage.rssKbSamples) : [],
    cpuMs: usage ? usage.cpuUs / 1000 : Number.NaN,
  };
}

interface ProbeOutput {
  maxRssKb: number;
  cpuUs: number;
  /** [ms since start, RSS in KB] */
  rssKbSamples: [number, number][];
}

function quarters(samples: [number, number][]): number[] {
  const end = samples.at(-1)?.[0] ?? 0;
  return [0, 1, 2, 3].map((q) => {
    const inside = samples.filter(([at]) => at >= (end * q) / 4 && at <= (end * (q + 1)) / 4).map(([, kb]) => kb / 1024);
    return inside.length > 0 ? Math.max(...inside) : Number.NaN;
  });
}
