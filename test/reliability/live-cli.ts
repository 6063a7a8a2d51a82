// The real CLI as a child process a test can watch and signal while it runs: stdin is fed with
// backpressure (so the test sees how much the CLI has taken), stdout and stderr are collected.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { assertValidAirbyteMessage, repoRoot } from '../support/airbyte-protocol.ts';

export interface LiveRun {
  child: ChildProcessWithoutNullStreams;
  /** Lines the child's stdin pipe has accepted so far. */
  linesAccepted(): number;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited, with its stdout parsed and validated. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; messages: Record<string, any>[] }>;
}

/** keepStdinOpen: stdin stays open after the lines (a source still sending), until the test ends it. */
export function startCli(args: string[], lines: Iterable<string>, env: Record<string, string> = {}, options: { keepStdinOpen?: boolean } = {}): LiveRun {
  const child = spawn(process.execPath, ['--no-warnings', join(repoRoot, 'dist/src/main.js'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let accepted = 0;
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  child.stdin.on('error', () => undefined); // the CLI stops reading when it stops or is killed
  const exited = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  void (async () => {
    for (const line of lines) {
      if (child.stdin.destroyed || child.exitCode !== null || child.signalCode !== null) return;
      // once() rejects when the pipe breaks (EPIPE: the child was killed): that ends the feeding.
      if (!child.stdin.write(`${line}\n`)) await Promise.race([once(child.stdin, 'drain'), exited]).catch(() => undefined);
      accepted += 1;
    }
    if (!options.keepStdinOpen) child.stdin.end();
  })();
  const done = exited.then(([code, signal]) => {
    const messages = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);
    messages.forEach(assertValidAirbyteMessage);
    return { code, signal, stdout, stderr, messages };
  });
  return { child, linesAccepted: () => accepted, stdout: () => stdout, stderr: () => stderr, done };
}

/** Polls until the condition holds; fails the test after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
