// Runs the real CLI, feeds stdin, and checks that stdout holds nothing but valid protocol
// messages: every test that runs the CLI validates what it emitted. By default the CLI runs in the
// test's own process (its argv, streams and CRM factory are all it takes from outside), which
// costs a fraction of a child process; `process: true` spawns the built binary, for what only a
// process boundary shows (the exit code as the OS sees it, start-up, environment).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { assertValidAirbyteMessage, repoRoot } from './airbyte-protocol.ts';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout, one parsed JSON value per line. */
  messages: Record<string, any>[];
}

export interface CliOptions {
  stdin?: string | string[] | Buffer;
  env?: Record<string, string>;
  /** singer: stdout holds Singer state values, not Airbyte messages. */
  output?: 'airbyte' | 'singer' | 'none';
  /** The entry point: the product binary, or the CLI wired to the in-memory CRM. */
  entry?: 'product' | 'memory';
  timeoutMs?: number;
  /** Run the built binary as a child process instead of in this process. */
  process?: boolean;
  /** Run the CLI (as a child process) as this user and group (the tests run as root; a store's permissions matter only to others). */
  uid?: number;
  gid?: number;
}

const ENTRIES = {
  product: join(repoRoot, 'dist/src/main.js'),
  memory: join(repoRoot, 'test/support/memory-cli.ts'),
};

export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const input = Array.isArray(options.stdin) ? options.stdin.join('\n') + '\n' : options.stdin ?? '';
  // process.exitCode and process.env are the process's own: runs that overlap need processes of their own.
  if (options.process || options.uid !== undefined || inProcessRunActive || crashesTheProcess(options)) return runChild(args, input, options);
  return runInProcess(args, input, options);
}

let inProcessRunActive = false;

/** The in-memory CRM can be told to kill its process mid-run: that process must not be the test's. */
function crashesTheProcess(options: CliOptions): boolean {
  return options.entry === 'memory' && /"crashAfterWrite"/.test(options.env?.MEMORY_CRM ?? '');
}

async function runInProcess(args: string[], input: string | Buffer, options: CliOptions): Promise<CliRun> {
  inProcessRunActive = true;
  const restoreEnv = applyEnv(options.env ?? {});
  const exitCodeBefore = process.exitCode;
  process.exitCode = undefined;
  try {
    const [{ runCli: cli }, createDestination] = await Promise.all([import('../../src/cli.ts'), destinationFactory(options)]);
    const stdout = collected();
    const stderr = collected();
    await cli(args, { stdin: Readable.from([Buffer.from(input)]), stdout: stdout.stream, stderr: stderr.stream, createDestination });
    const code = Number(process.exitCode ?? 0);
    return { code, signal: null, stdout: stdout.text(), stderr: stderr.text(), messages: parseStdout(stdout.text(), options.output ?? 'airbyte') };
  } finally {
    process.exitCode = exitCodeBefore;
    restoreEnv();
    inProcessRunActive = false;
  }
}

async function destinationFactory(options: CliOptions) {
  if (options.entry === 'memory') {
    const { MemoryDestination } = await import('./memory-destination.ts');
    const behaviour = JSON.parse(options.env?.MEMORY_CRM ?? '{"objects":{}}');
    return () => new MemoryDestination(behaviour);
  }
  return (await import('../../src/crm/index.ts')).createCrmDestination;
}

function collected(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return { stream, text: () => text };
}

function applyEnv(env: Record<string, string>): () => void {
  const before = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  return () => {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

function runChild(args: string[], input: string | Buffer, options: CliOptions): Promise<CliRun> {
  const child = spawn(process.execPath, ['--no-warnings', ENTRIES[options.entry ?? 'product'], ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  child.stdin.on('error', () => undefined); // the CLI may stop reading early on a fatal error
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 50_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        const messages = parseStdout(stdout, options.output ?? 'airbyte');
        resolve({ code, signal, stdout, stderr, messages });
      } catch (error) {
        reject(new Error(`${(error as Error).message}\n--- stderr ---\n${stderr}`));
      }
    });
  });
}

function parseStdout(stdout: string, output: CliOptions['output']): Record<string, any>[] {
  const lines = stdout.split('\n').filter((line) => line !== '');
  return lines.map((line) => {
    let value: Record<string, any>;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`stdout holds a line that is not JSON: ${line.slice(0, 200)}`);
    }
    if (output === 'airbyte') assertValidAirbyteMessage(value);
    return value;
  });
}

export function tempDir(prefix = 'crm-activate-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

export const byType = (messages: Record<string, any>[], type: string) => messages.filter((m) => m.type === type);

/** The TRACE ERROR messages (stream statuses are TRACE messages too). */
export const errorTraces = (messages: Record<string, any>[]) => messages.filter((m) => m.type === 'TRACE' && m.trace.type === 'ERROR');

/** The TRACE STREAM_STATUS messages, as "stream:STATUS" strings in order. */
export const streamStatuses = (messages: Record<string, any>[]) => messages
  .filter((m) => m.type === 'TRACE' && m.trace.type === 'STREAM_STATUS')
  .map((m) => `${m.trace.stream_status.stream_descriptor.name}:${m.trace.stream_status.status}`);

/** The run summary table the CLI prints on stderr, as { target: { column: count } }. */
export function summaryOf(stderr: string): Record<string, Record<string, number>> {
  const lines = stderr.split('\n');
  const headerAt = lines.findIndex((line) => /^object\s+received\s/.test(line));
  if (headerAt < 0) throw new Error(`no run summary on stderr:\n${stderr}`);
  const columns = lines[headerAt].trim().split(/\s+/).slice(1);
  const table: Record<string, Record<string, number>> = {};
  for (const line of lines.slice(headerAt + 1)) {
    const cells = line.trim().split(/\s+/);
    if (cells.length !== columns.length + 1 || !cells.slice(1).every((c) => /^\d+$/.test(c))) break;
    table[cells[0]] = Object.fromEntries(columns.map((column, i) => [column, Number(cells[i + 1])]));
  }
  return table;
}

/** The summary row of the object fed by `stream` (labelled `stream:object`), whichever CRM object that is. */
export function summaryRow(stderr: string, stream: string): Record<string, number> {
  const rows = Object.entries(summaryOf(stderr)).filter(([label]) => label.startsWith(`${stream}:`));
  if (rows.length !== 1) throw new Error(`expected one summary row for stream "${stream}", found ${rows.length}:\n${stderr}`);
  return rows[0][1];
}
