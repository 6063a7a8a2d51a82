// Runs the real CLI as a child process, feeds stdin, and checks that stdout holds nothing but
// valid protocol messages: every test that runs the CLI validates what it emitted.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  /** Run the CLI as this user and group (the tests run as root; a store's permissions matter only to others). */
  uid?: number;
  gid?: number;
}

const ENTRIES = {
  product: join(repoRoot, 'dist/src/main.js'),
  memory: join(repoRoot, 'test/support/memory-cli.ts'),
};

export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const input = Array.isArray(options.stdin) ? options.stdin.join('\n') + '\n' : options.stdin ?? '';
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
