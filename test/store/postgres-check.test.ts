// check with a PostgreSQL store (state.url) proves it as a run would use it: it connects, creates
// the schema and tables, takes and releases the lock. Each usual first-run problem fails check
// naming what to change, and the password appears nowhere. A dry run plans from the shared store
// and leaves it as it was.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { airbyteInput, echoedStates, hubspotScenario, type CrmUnderTest } from '../reliability/crm-scenarios.ts';
import { startPostgres, SUPERUSER_PASSWORD, usePostgres } from '../support/postgres.ts';
import { runCli, tempDir } from '../support/run-cli.ts';

const postgres = usePostgres();
let crm: CrmUnderTest;
beforeAll(async () => {
  crm = await hubspotScenario.start();
});
afterAll(async () => {
  await crm.close();
});

async function check(url: string) {
  const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices', config: { state: { url } } });
  const run = await runCli(['check', '--config', config]);
  return { run, status: run.messages.find((m) => m.type === 'CONNECTION_STATUS')?.connectionStatus };
}

async function schemaExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgres().url() });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('check with a PostgreSQL store', () => {
  it('creates the schema and its tables, takes the lock and releases it', async () => {
    const { run, status } = await check(postgres().url({ query: 'schema=checked_store' }));
    expect(status, run.stderr).toEqual({ status: 'SUCCEEDED' });
    expect(await schemaExists('checked_store')).toBe(true);
    // Released: a run on the store goes through.
    const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices', config: { state: { url: postgres().url({ query: 'schema=checked_store' }) } } });
    const write = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', crm.rows(3), 3) });
    expect(write.code, write.stderr).toBe(0);
  });

  it('names the default schema crm_activate when the URL gives none', async () => {
    const { status } = await check(postgres().url());
    expect(status).toEqual({ status: 'SUCCEEDED' });
    expect(await schemaExists('crm_activate')).toBe(true);
  });

  it('a server that refuses connections: names host and port to check', async () => {
    const down = await startPostgres();
    const url = down.url();
    await down.stop();
    const { run, status } = await check(url);
    expect(status.status).toBe('FAILED');
    expect(status.message).toMatch(new RegExp(`^state\\.url: the state store at postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${down.port}/postgres\\?schema=crm_activate: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${down.port} \\(.*ECONNREFUSED.*\\); check the host and port in state\\.url`));
    expect(run.stdout + run.stderr).not.toContain(SUPERUSER_PASSWORD);
  });

  it('a wrong password: names the user and the URL to fix, without the password', async () => {
    const wrong = 'not-the-password-8d1f';
    const { run, status } = await check(postgres().url({ password: wrong }));
    expect(status.status).toBe('FAILED');
    expect(status.message).toContain('PostgreSQL refused user "postgres" (password authentication failed for user "postgres"); check the user name and password in state.url');
    expect(run.stdout + run.stderr).not.toContain(wrong);
  });

  it('a user that may not create the schema: names the grant that fixes it', async () => {
    await postgres().admin("CREATE ROLE limited_user LOGIN PASSWORD 'limited-secret-42'");
    const { run, status } = await check(postgres().url({ user: 'limited_user', password: 'limited-secret-42', query: 'schema=not_allowed' }));
    expect(status.status).toBe('FAILED');
    expect(status.message).toContain('user "limited_user" lacks a privilege (permission denied for database postgres); either GRANT CREATE ON DATABASE "postgres" TO "limited_user"');
    expect(run.stdout + run.stderr).not.toContain('limited-secret-42');
    await postgres().admin('GRANT CREATE ON DATABASE postgres TO limited_user');
    expect((await check(postgres().url({ user: 'limited_user', password: 'limited-secret-42', query: 'schema=not_allowed' }))).status).toEqual({ status: 'SUCCEEDED' });
  });

  it('TLS asked of a server without it: names sslmode', async () => {
    const { status } = await check(postgres().url({ query: 'sslmode=require' }));
    expect(status.status).toBe('FAILED');
    expect(status.message).toMatch(/TLS with 127\.0\.0\.1:\d+ failed \(The server does not support SSL connections\); set sslmode in state\.url/);
  });
});

describe('a dry run with a PostgreSQL store', () => {
  it('plans from what the store holds and changes nothing in it', async () => {
    const url = postgres().url({ query: 'schema=dry_store' });
    const config = crm.writeConfig(tempDir(), 'upsert', { stream: 'invoices', config: { state: { url } } });
    const rows = crm.rows(10, 7000);
    const dryFirst = await runCli(['write', '--config', config, '--dry-run'], { stdin: airbyteInput('invoices', rows, 10) });
    expect(dryFirst.code, dryFirst.stderr).toBe(0);
    expect(await schemaExists('dry_store')).toBe(false);
    const real = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', rows, 10) });
    expect(real.code, real.stderr).toBe(0);
    const changed = rows.map((row, i) => (i < 3 ? { ...row, amount: Number(row.amount) + 1 } : row));
    const dry = await runCli(['write', '--config', config, '--dry-run'], { stdin: airbyteInput('invoices', changed, 10) });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr.match(/^ {2}update INV-/gm)).toHaveLength(3);
    expect(echoedStates(dry.messages).through).toEqual([]);
    // The real run after it still sees the three changes: the dry run recorded nothing.
    const after = await runCli(['write', '--config', config], { stdin: airbyteInput('invoices', changed, 10) });
    expect(after.code, after.stderr).toBe(0);
    const ours = [...crm.state().byKey].filter(([key]) => crm.expected(changed).has(key));
    expect(new Map(ours)).toEqual(crm.expected(changed));
  });
});
