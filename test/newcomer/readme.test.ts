// A newcomer's first steps after the README's first command: the README's own usage blocks, run
// exactly as written through bash (the emulator's block in the background), from a scratch folder
// that holds the clone's bin/ and examples/ as the reader's clone does, with the machine's own PATH
// (whatever Node it has) instead of the test runner's.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { NODE_NEEDED } from '../../src/node-version.ts';
import { assertValidAirbyteMessage, repoRoot } from '../support/airbyte-protocol.ts';
import { runCli, tempDir } from '../support/run-cli.ts';

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function readmeBlock(name: string): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const block = readme.match(new RegExp(`<!-- readme-test: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``));
  if (!block) throw new Error(`README.md has no block marked readme-test: ${name}`);
  return block[1];
}

/** A folder laid out like the reader's clone, for what the commands write (.crm-activate/). */
function scratchClone(): string {
  const dir = tempDir('crm-activate-newcomer-');
  for (const entry of ['bin', 'examples']) symlinkSync(join(repoRoot, entry), join(dir, entry));
  return dir;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.pid) process.kill(-child.pid, 'SIGTERM');
});

/** Starts a block that serves until stopped; resolves with the URL it prints once listening. */
async function serveBlock(name: string, cwd: string): Promise<string> {
  const child = spawn('bash', ['-euc', readmeBlock(name)], { cwd, env: { ...process.env, PATH: SYSTEM_PATH }, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  running.push(child);
  for await (const line of createInterface({ input: child.stdout! })) return (JSON.parse(line) as { url: string }).url;
  throw new Error(`the ${name} block ended without printing its URL`);
}

function runBlock(name: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-euc', readmeBlock(name)], { cwd, env: { ...process.env, PATH: SYSTEM_PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const messagesOf = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);

describe('the README, run as written from a clone', () => {
  it('HubSpot: the emulator command, then every connector command against it', async () => {
    const clone = scratchClone();
    expect(await serveBlock('emulator', clone)).toBe('http://127.0.0.1:8089');
    const run = await runBlock('commands', clone);
    expect(run.code, run.stderr).toBe(0);
    const messages = messagesOf(run.stdout);
    const about = messages.pop()!;
    expect(about.capabilities).toEqual(expect.arrayContaining(['about']));
    messages.forEach(assertValidAirbyteMessage);
    expect(messages.map((m) => m.type).filter((type) => type !== 'TRACE' && type !== 'LOG')).toEqual([
      'SPEC', 'CONNECTION_STATUS', 'DESTINATION_CATALOG', 'STATE', 'STATE',
    ]);
    expect(messages.find((m) => m.type === 'CONNECTION_STATUS')!.connectionStatus.status).toBe('SUCCEEDED');
    // The first write created the example invoices; the dry run wrote nothing and only planned.
    const summaries = [...run.stderr.matchAll(/^\S+\s+27\s+(\d+)\s+/gm)].map((row) => Number(row[1]));
    expect(summaries).toEqual([25, 25]);
    expect(run.stderr).toMatch(/dry run: nothing was written/);
  });

  it('Salesforce: the emulator command, then check and write against it', async () => {
    const clone = scratchClone();
    expect(await serveBlock('salesforce-emulator', clone)).toBe('http://127.0.0.1:8090');
    const run = await runBlock('salesforce-commands', clone);
    expect(run.code, run.stderr).toBe(0);
    expect(messagesOf(run.stdout).find((m) => m.type === 'CONNECTION_STATUS')!.connectionStatus.status).toBe('SUCCEEDED');
    expect(run.stderr).toMatch(/^\S+\s+\d+\s+[1-9]\d*\s+/m);
  });
});

describe('an older Node', () => {
  it('stops with one line naming the version needed, before loading anything', async () => {
    const pretendNode20 = join(tempDir(), 'node-20.mjs');
    writeFileSync(pretendNode20, 'Object.defineProperty(process.versions, "node", { value: "20.20.2" });\nObject.defineProperty(process, "version", { value: "v20.20.2" });\n');
    const run = await runCli(['spec'], { env: { NODE_OPTIONS: `--import=${pretendNode20}` }, output: 'none', process: true });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining(`needs Node.js ${NODE_NEEDED} or newer, and this is v20.20.2`)]);
  });

  it('names the same version as package.json engines', () => {
    expect(packageJson.engines.node).toBe(`>=${NODE_NEEDED}`);
  });
});
