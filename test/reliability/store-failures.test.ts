// A store the run cannot use says so as a config error naming the file and the remedy, never as
// a bug with SQLite's words and a stack: damaged, not writable by this uid, on a read-only file
// system, or on a full disk (before or during the run, then with counts of what the CRM answered).
// The tests run as root: other uids run the CLI through spawn's uid; file systems are small tmpfs
// mounts (skipped where mounting is not allowed).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { StateStore } from '../../src/store/state-store.ts';
import { runCli, summaryRow, tempDir, type CliRun } from '../support/run-cli.ts';
import { airbyteInput, allStates, CRM_SCENARIOS, echoedStates, hubspotScenario, type CrmUnderTest } from './crm-scenarios.ts';

const OTHER_UID = 1000;

let crm: CrmUnderTest | undefined;
const mounts: string[] = [];
afterEach(async () => {
  await crm?.close();
  crm = undefined;
  for (const mount of mounts.splice(0)) execFileSync('umount', [mount]);
});

function mountTmpfs(at: string, options: string): void {
  mkdirSync(at, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', at]);
  mounts.push(at);
}

const canMount = (() => {
  try {
    const at = join(tempDir(), 'probe');
    mountTmpfs(at, 'size=64k');
    execFileSync('umount', [mounts.pop()!]);
    return true;
  } catch {
    return false;
  }
})();

/** The run failed with a config error whose message matches, before any state, without a stack. */
function expectConfigError(run: CliRun, message: RegExp): void {
  expect(run.code, run.stderr).toBe(1);
  const error = run.messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR')?.trace.error;
  expect(error?.failure_type, run.stderr).toBe('config_error');
  expect(error.message).toMatch(message);
  expect(run.stderr).not.toMatch(/bug error|\n\s+at /);
}

const writeRequests = () => crm!.requests().filter((r) => r.target === 'write').length;

describe('a damaged store', () => {
  const flipPageHeader = (path: string) => {
    const bytes = readFileSync(path);
    for (let i = 4096; i < 4096 + 16; i++) bytes[i] ^= 0xff; // the second page's b-tree header
    writeFileSync(path, bytes);
  };
  it.each([
    ['garbage', (path: string) => writeFileSync(path, 'not a database '.repeat(500))],
    ['half-truncated', (path: string) => truncateSync(path, Math.floor(statSync(path).size / 2))],
    ['flipped bytes', flipPageHeader],
  ])('%s: "damaged; move it aside", nothing written, no state', async (_kind, damage) => {
    crm = await hubspotScenario.start();
    const dir = tempDir();
    const config = crm.writeConfig(dir, 'upsert', { stream: 'invoices' });
    const rows = crm.rows(3000);
    const first = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 500) });
    expect(first.code, first.stderr).toBe(0);
    const path = join(dir, 'state.db');
    damage(path);

    const writesBefore = writeRequests();
    const rerun = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 500) });
    expectConfigError(rerun, new RegExp(`^the store at ${path} is damaged .*; move it aside: the next run resends every row once$`));
    expect(rerun.messages.filter((m) => m.type === 'STATE')).toEqual([]);
    expect(writeRequests()).toBe(writesBefore);
  });
});

describe('a damaged store under a dry run', () => {
  it('names the store, not the copy the dry run works on', async () => {
    crm = await hubspotScenario.start();
    const dir = tempDir();
    const config = crm.writeConfig(dir, 'upsert', { stream: 'invoices' });
    writeFileSync(join(dir, 'state.db'), 'not a database '.repeat(500));
    const run = await runCli(['write', '--config', config, '--dry-run'], { stdin: airbyteInput('invoices', crm.rows(10), 10) });
    expectConfigError(run, new RegExp(`^the store at ${join(dir, 'state.db')} is damaged `));
  });
});

describe('a store another process keeps busy', () => {
  it('stops with a transient error saying so (not "bug error: database is locked"), before any CRM call', async () => {
    crm = await hubspotScenario.start();
    const dir = tempDir();
    const path = join(dir, 'state.db');
    new StateStore(path).close();
    // A tool (the sqlite3 shell, a backup) holds a write transaction open.
    const tool = new DatabaseSync(path);
    tool.exec('BEGIN IMMEDIATE');
    try {
      const run = await runCli(['write', '--config', crm.writeConfig(dir, 'upsert', { stream: 'invoices' })], { stdin: airbyteInput('invoices', crm.rows(10), 10) });
      expect(run.code).toBe(1);
      const error = run.messages.find((m) => m.type === 'TRACE' && m.trace.type === 'ERROR')?.trace.error;
      expect(error).toMatchObject({ failure_type: 'transient_error', message: expect.stringMatching(new RegExp(`^the state store at ${path} stayed busy: another process .* held it for more than 5 s; rerun$`)) });
      expect(run.stderr).not.toMatch(/bug error|\n\s+at /);
      expect(crm.requests()).toEqual([]);
    } finally {
      tool.exec('ROLLBACK');
      tool.close();
    }
  });
});

describe('a store this uid cannot write', () => {
  function configIn(dir: string, statePath: string): string {
    return crm!.writeConfig(dir, 'upsert', { stream: 'invoices', config: { state: { path: statePath } } });
  }

  it.each([
    ['a read-only store file', (dir: string) => {
      const path = join(dir, 'store', 'state.db');
      mkdirSync(join(dir, 'store'));
      new StateStore(path).close();
      chownSync(join(dir, 'store'), OTHER_UID, OTHER_UID);
      chownSync(path, OTHER_UID, OTHER_UID);
      chmodSync(path, 0o444);
      return { path, message: new RegExp(`^the state store file ${path} is read-only for uid ${OTHER_UID} \\(gid ${OTHER_UID}\\) \\(owner uid ${OTHER_UID}, mode 444\\); give uid ${OTHER_UID} \\(gid ${OTHER_UID}\\) write access to it$`) };
    }],
    ['a read-only directory', (dir: string) => {
      mkdirSync(join(dir, 'store'), { mode: 0o555 });
      chownSync(join(dir, 'store'), OTHER_UID, OTHER_UID);
      return { path: join(dir, 'store', 'state.db'), message: new RegExp(`the directory ${dir}/store is read-only \\(mode 555\\); uid ${OTHER_UID} \\(gid ${OTHER_UID}\\) needs write access to it`) };
    }],
    ['a directory of another user', (dir: string) => {
      mkdirSync(join(dir, 'store'), { mode: 0o755 });
      return { path: join(dir, 'store', 'nested', 'state.db'), message: new RegExp(`the directory ${dir}/store belongs to uid 0 \\(mode 755\\); uid ${OTHER_UID} \\(gid ${OTHER_UID}\\) needs write access to it`) };
    }],
  ])('%s: says which, with the uid that needs write access, before any CRM call', async (_kind, setUp) => {
    crm = await hubspotScenario.start();
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const { path, message } = setUp(dir);
    const config = configIn(dir, path);
    const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', crm.rows(10), 10), uid: OTHER_UID });
    expectConfigError(run, message);
    expect(crm.requests()).toEqual([]);
  });

  it.skipIf(!canMount)('a read-only file system (the store folder not yet made): says the file system is read-only', async () => {
    crm = await hubspotScenario.start();
    const dir = tempDir();
    mountTmpfs(join(dir, 'airbyte'), 'ro,size=64k');
    const path = join(dir, 'airbyte', 'state', 'state.db');
    const run = await runCli(['write', '--config', configIn(dir, path)], { stdin: airbyteInput('invoices', crm.rows(10), 10) });
    expectConfigError(run, new RegExp(`^the file system holding the state store ${path} is read-only; mount ${dir}/airbyte writable for uid 0 \\(gid 0\\)$`));
    expect(crm.requests()).toEqual([]);
  });
});

describe.skipIf(!canMount)('a full disk', () => {
  it('before the run: "disk full at" the store folder, before any CRM call', async () => {
    crm = await hubspotScenario.start();
    const dir = tempDir();
    const disk = join(dir, 'disk');
    mountTmpfs(disk, 'size=64k');
    expect(() => writeFileSync(join(disk, 'filler'), Buffer.alloc(1024 * 1024))).toThrow(/ENOSPC/);
    const config = crm.writeConfig(dir, 'upsert', { stream: 'invoices', config: { state: { path: join(disk, 'state.db') } } });
    const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', crm.rows(10), 10) });
    expectConfigError(run, new RegExp(`^disk full at ${disk}: `));
    expect(crm.requests()).toEqual([]);
  });

  it('during the run: "disk full at", counts from what the CRM answered, no state past the unrecorded rows; a rerun with room converges', async () => {
    crm = await hubspotScenario.start();
    const dir = tempDir();
    const disk = join(dir, 'disk');
    mountTmpfs(disk, 'size=160k');
    const config = crm.writeConfig(dir, 'upsert', { stream: 'invoices', config: { state: { path: join(disk, 'state.db') } } });
    const rows = crm.rows(3000);
    const input = airbyteInput('invoices', rows, 100);
    const run = await runCli(['write', '--config', config], { stdin: input });
    expectConfigError(run, new RegExp(`^disk full at ${disk}: `));
    const landed = crm.state().byKey.size;
    expect(landed).toBeGreaterThan(0);
    expect(landed).toBeLessThan(rows.length);
    expect(summaryRow(run.stderr, 'invoices').created).toBe(landed);
    // Every state that went out covers rows the CRM holds.
    const { through } = echoedStates(run.messages);
    for (const row of rows.slice(0, (through.at(-1) ?? -1) + 1)) expect(crm.state().byKey.has(crm.key(row))).toBe(true);

    execFileSync('mount', ['-o', 'remount,size=16m', disk]);
    const rerun = await runCli(['write', '--config', config], { stdin: input });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(crm.state().duplicates).toEqual([]);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    expect(echoedStates(rerun.messages).through).toEqual(allStates(rows.length, 100));
  });
});

describe('check proves the store works', () => {
  const statusOf = (run: CliRun) => run.messages.find((m) => m.type === 'CONNECTION_STATUS')?.connectionStatus;

  it('makes the store folder and file, takes and releases the lock: a sync can start right after', async () => {
    crm = await hubspotScenario.start();
    const dir = tempDir();
    const path = join(dir, 'not', 'yet', 'state.db');
    const config = crm.writeConfig(dir, 'upsert', { stream: 'invoices', config: { state: { path } } });
    const check = await runCli(['check', '--config', config]);
    expect(statusOf(check), check.stderr).toEqual({ status: 'SUCCEEDED' });
    expect(statSync(path).isFile()).toBe(true);
    const run = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', crm.rows(10), 10) });
    expect(run.code, run.stderr).toBe(0);
  });

  it('fails on a store this uid cannot write, naming state.path, the folder and the uid', async () => {
    crm = await hubspotScenario.start();
    const dir = tempDir();
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'store'), { mode: 0o555 });
    chownSync(join(dir, 'store'), OTHER_UID, OTHER_UID);
    const config = crm.writeConfig(dir, 'upsert', { stream: 'invoices', config: { state: { path: join(dir, 'store', 'state.db') } } });
    const check = await runCli(['check', '--config', config], { uid: OTHER_UID });
    expect(check.code).toBe(0);
    expect(statusOf(check)).toEqual({
      status: 'FAILED',
      message: expect.stringMatching(new RegExp(`^state\\.path: cannot write the state store ${dir}/store/state\\.db: the directory ${dir}/store is read-only \\(mode 555\\); uid ${OTHER_UID} \\(gid ${OTHER_UID}\\) needs write access`)),
    });
  });

  it('check and write warn when insert mode writes the key to no CRM field, naming the fix', async () => {
    crm = await hubspotScenario.start();
    const dir = tempDir();
    const path = crm.writeConfig(dir, 'insert', { stream: 'invoices' });
    const config = JSON.parse(readFileSync(path, 'utf8'));
    config.objects[0].match = { source: 'invoice_id' };
    config.objects[0].fields.push({ source: 'invoice_id', destination: 'invoice_number' });
    writeFileSync(path, JSON.stringify(config));
    const warning = /objects\[0\]: insert mode writes the key invoice_id to no field of invoices, so a create whose answer is lost .* cannot be found again .*; map the key to a field with match\.destination, ideally a unique one/;
    const check = await runCli(['check', '--config', path]);
    expect(statusOf(check), check.stderr).toEqual({ status: 'SUCCEEDED' });
    expect(check.stderr).toMatch(warning);
    const run = await runCli(['write', '--config', path], { stdin: airbyteInput('invoices', crm.rows(10), 10) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(warning);
  });
});

describe('a store that vanished between runs', () => {
  it('is a first run only with a warning saying so (upsert: every row sent again, nothing doubled)', async () => {
    crm = await hubspotScenario.start();
    const dir = tempDir();
    const config = crm.writeConfig(dir, 'upsert', { stream: 'invoices' });
    const rows = crm.rows(200);
    const first = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 100) });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toMatch(/earlier run wrote/);
    rmSync(join(dir, 'state.db'));

    const rerun = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 100) });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`the state store at ${join(dir, 'state.db')} holds nothing of invoices, which an earlier run wrote (per ${join(dir, 'state.db')}.id): the store was lost or replaced; this run is a first run: every row is sent again`);
    expect(crm.state().duplicates).toEqual([]);
    expect(crm.state().byKey).toEqual(crm.expected(rows));

    // Recorded again: the next run is an ordinary one.
    const third = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 100) });
    expect(third.stderr).not.toMatch(/earlier run wrote/);
    expect(summaryRow(third.stderr, 'invoices')).toMatchObject({ unchanged: 200 });
  });

  it.each(CRM_SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s insert by a unique key: rows created before are found and recorded, the others created', async (_name, scenario) => {
    crm = await scenario.start();
    const dir = tempDir();
    const config = crm.writeConfig(dir, 'insert', { stream: 'invoices' });
    const rows = crm.rows(400);
    const first = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows.slice(0, 200), 100) });
    expect(first.code, first.stderr).toBe(0);
    rmSync(join(dir, 'state.db'));

    const rerun = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 100) });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/the store was lost or replaced; every row is looked up by \w+ before it is created, so none is created twice/);
    expect(crm.state().duplicates).toEqual([]);
    expect(crm.state().byKey).toEqual(crm.expected(rows));
    expect(summaryRow(rerun.stderr, 'invoices')).toMatchObject({ received: 400, created: 200, unchanged: 200, skipped: 0 });
  });
});
