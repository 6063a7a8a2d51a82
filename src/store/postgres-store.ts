// The change-detection store in a PostgreSQL schema (state.url), for runs that keep nothing on
// disk between them: Airbyte pods, CronJobs, ephemeral containers. The same semantics as the
// SQLite store (per-field hashes, record ids, seen and departed keys, the create journal, table
// versions), with what a shared server changes:
// - one statement per chunk of rows, never one per row: arrays bound as parameters (= ANY, unnest);
//   a write that touches two tables is one statement (a data-modifying WITH), so it is atomic
//   without a transaction's extra round trips;
// - the run lock is an advisory lock held by a connection of its own: the server releases it the
//   moment that connection drops (a killed run never blocks the next). A row beside it names the
//   holder, for the refusal, and its heartbeat tells when a run that died stopped;
// - the tables are created and migrated by the connector, versioned in store_info.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { configError } from '../errors.js';
import { postgresFailure, postgresTarget, type PostgresTarget } from './postgres-errors.js';
import { currentHolder, describeHolder, diedBy, HEARTBEAT_MS, type LockHolder } from './run-lock.js';
import { StoredHashes, type ChangeStore, type LookedUp, type RunOutcome, type StoredRecord, type UnresolvedCreate, type WrittenRecord } from './store.js';

/** The layout this code reads and writes; older layouts are migrated at open. */
const SCHEMA_VERSION = 1;
/** Connections of the pool: the engine commits a few batches at once; the lock has its own. */
const POOL_SIZE = 3;
/** A statement that failed on a dropped connection is tried again this many times (each on a fresh connection). */
const CONNECTION_RETRIES = 3;

/** Version 1. Keys compare byte-wise (COLLATE "C"), as SQLite's do: departures page by key. */
const MIGRATIONS: Record<number, (s: string) => string> = {
  1: (s) => `
    CREATE TABLE IF NOT EXISTS ${s}.records (
      object       text NOT NULL,
      key          text COLLATE "C" NOT NULL,
      crm_id       text,
      hashes       text NOT NULL DEFAULT '{}',
      last_seen    bigint NOT NULL,
      last_written bigint,
      left_at      bigint,
      PRIMARY KEY (object, key)
    ) WITH (fillfactor = 70);
    CREATE TABLE IF NOT EXISTS ${s}.table_versions (
      object  text NOT NULL,
      stream  text NOT NULL,
      version text NOT NULL,
      PRIMARY KEY (object, stream)
    );
    CREATE TABLE IF NOT EXISTS ${s}.runs (
      id          bigserial PRIMARY KEY,
      started_at  timestamptz NOT NULL,
      finished_at timestamptz,
      outcome     text
    );
    CREATE TABLE IF NOT EXISTS ${s}.run_lock (
      id            integer PRIMARY KEY CHECK (id = 1),
      run_id        bigint NOT NULL,
      pid           integer NOT NULL,
      host          text NOT NULL,
      machine       text NOT NULL,
      process_start text NOT NULL,
      started_at    text NOT NULL,
      heartbeat_at  bigint NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${s}.pending_creates (
      object       text NOT NULL,
      key          text COLLATE "C" NOT NULL,
      batch_id     text NOT NULL,
      run_id       bigint NOT NULL,
      journaled_at bigint NOT NULL,
      hashes       text NOT NULL,
      PRIMARY KEY (object, key)
    );`,
};

const SAVE_CONFLICT = `ON CONFLICT (object, key) DO UPDATE SET crm_id = COALESCE(excluded.crm_id, records.crm_id), hashes = excluded.hashes,
  last_seen = excluded.last_seen, last_written = excluded.last_written, left_at = NULL`;

export class PostgresStore implements ChangeStore {
  private lockClient?: pg.Client;
  private heartbeat?: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly target: PostgresTarget,
    /** The schema as an SQL identifier, quoted. */
    private readonly s: string,
    readonly runId: number,
    /** False for a dry run's copy: it dies with its connection. */
    readonly durable: boolean,
  ) {}

  get path(): string {
    return this.target.shown;
  }

  /**
   * Connects, creates the schema and its tables (or migrates them) and records this run. A server
   * that cannot be reached, refuses the user or lacks a privilege is a config error naming the remedy.
   */
  static async open(url: string, options: { copy?: boolean } = {}): Promise<PostgresStore> {
    const target = postgresTarget(url);
    // A copy lives in one session's temporary tables: a pool of one keeps every statement in it.
    const pool = new pg.Pool({ ...target.client, max: options.copy ? 1 : POOL_SIZE, idleTimeoutMillis: options.copy ? 0 : 30_000 });
    // An idle connection the server drops is replaced on the next query; it must not crash the process.
    pool.on('error', () => undefined);
    try {
      const s = options.copy ? await copyInSession(pool, target) : quoteIdentifier(target.schema);
      if (!options.copy) await migrate(pool, target, s);
      const { rows } = await pool.query<{ id: string }>(`INSERT INTO ${s}.runs (started_at) VALUES (now()) RETURNING id`);
      return new PostgresStore(pool, target, s, Number(rows[0].id), !options.copy);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw postgresFailure(target, error, 'open');
    }
  }

  async acquireRunLock(onLost?: (message: string) => void): Promise<string | undefined> {
    // Named apart, so an operator sees in pg_stat_activity which session holds the lock.
    const client = new pg.Client({ ...this.target.client, application_name: 'crm-activate run lock' });
    client.on('error', () => undefined); // a dropped lock connection is noticed by the heartbeat
    try {
      await client.connect();
      // The server notices a client that vanished without closing (a container gone) within a minute.
      await client.query('SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3');
      const { rows } = await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS taken', [this.lockName()]);
      const now = Date.now();
      const holder = await this.lockHolder(client);
      if (!rows[0].taken) {
        const who = holder ? ` (${describeHolder(holder, now)})` : '';
        await this.finishRun('refused').catch(() => undefined);
        throw configError(`another run is using the state store at ${this.path}${who}; runs on one store must not overlap: wait for it to finish or stop it (the lock is released the moment its run's connection closes)`, { code: 'store_locked' });
      }
      if (holder) {
        await client.query(`UPDATE ${this.s}.runs SET finished_at = to_timestamp($1 / 1000.0), outcome = 'died' WHERE id = $2 AND finished_at IS NULL`, [diedBy(holder, now), holder.runId]);
      }
      const me = currentHolder(this.runId, now);
      await client.query(`INSERT INTO ${this.s}.run_lock (id, run_id, pid, host, machine, process_start, started_at, heartbeat_at)
        VALUES (1, $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET run_id = excluded.run_id, pid = excluded.pid, host = excluded.host,
        machine = excluded.machine, process_start = excluded.process_start, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
      [me.runId, me.pid, me.host, me.machine, me.processStart, me.startedAt, me.heartbeatAt]);
      this.lockClient = client;
      this.startHeartbeat(client, onLost);
      return holder ? describeHolder(holder, now) : undefined;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw postgresFailure(this.target, error, 'lock');
    }
  }

  /** The PostgreSQL store is not lost with a container: nothing to recover. */
  vanishedObjects(): { objects: string[]; runEndedAt?: number } {
    return { objects: [] };
  }

  private lockName(): string {
    return `crm-activate:${this.target.schema}`;
  }

  private async lockHolder(client: pg.Client): Promise<LockHolder | undefined> {
    const { rows } = await client.query<Record<string, string>>(`SELECT * FROM ${this.s}.run_lock WHERE id = 1`);
    const row = rows[0];
    if (!row) return undefined;
    return {
      runId: Number(row.run_id), pid: Number(row.pid), host: row.host, machine: row.machine,
      processStart: row.process_start, startedAt: row.started_at, heartbeatAt: Number(row.heartbeat_at),
    };
  }

  /** The lock lives as long as its connection: a heartbeat that fails means it may be gone (the run must stop). */
  private startHeartbeat(client: pg.Client, onLost?: (message: string) => void): void {
    let lost = false;
    const lose = (why: string) => {
      if (lost || this.closed) return;
      lost = true;
      clearInterval(this.heartbeat);
      onLost?.(`the lock on the state store at ${this.path} was lost (${why})`);
    };
    client.on('end', () => lose('its connection closed'));
    this.heartbeat = setInterval(() => {
      client.query(`UPDATE ${this.s}.run_lock SET heartbeat_at = $1 WHERE id = 1 AND run_id = $2`, [Date.now(), this.runId]).then(
        (result) => { if (result.rowCount === 0) lose('another run took it over'); },
        (error: Error) => lose(`its connection failed: ${error.message}`),
      );
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async lookup(object: string, keys: string[], options: { markFoundSeen?: boolean } = {}): Promise<Map<string, LookedUp>> {
    const found = new Map<string, LookedUp>();
    if (keys.length === 0) return found;
    const select = `SELECT key, crm_id, hashes, last_seen, last_written FROM ${this.s}.records WHERE object = $1 AND key = ANY($2::text[])`;
    // The UPDATE in the WITH does not change what the SELECT sees: the rows as they were.
    const rows = await this.query<{ key: string; crm_id: string | null; hashes: string; last_seen: string; last_written: string | null }>(options.markFoundSeen
      ? `WITH found AS (${select}), marked AS (UPDATE ${this.s}.records SET last_seen = $3, left_at = NULL WHERE object = $1 AND key = ANY($2::text[]))
        SELECT * FROM found`
      : select, options.markFoundSeen ? [object, keys, this.runId] : [object, keys]);
    for (const row of rows) found.set(row.key, new StoredHashes(row.key, row.crm_id, row.hashes, Number(row.last_seen), row.last_written !== null));
    return found;
  }

  async markSeen(object: string, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    // DISTINCT: one statement may not update a row twice (a refused key may come twice).
    // Most keys exist (a rerun): a plain UPDATE costs far less than an upsert's speculative insert.
    await this.query(`WITH seen AS (UPDATE ${this.s}.records SET last_seen = $3, left_at = NULL WHERE object = $1 AND key = ANY($2::text[]) RETURNING key)
      INSERT INTO ${this.s}.records (object, key, last_seen) SELECT DISTINCT $1, k, $3::bigint FROM unnest($2::text[]) AS k WHERE k NOT IN (SELECT key FROM seen)
      ON CONFLICT (object, key) DO UPDATE SET last_seen = excluded.last_seen, left_at = NULL`, [object, keys, this.runId]);
  }

  async saveWrites(object: string, written: WrittenRecord[], resolvedCreates: string[] = []): Promise<void> {
    if (written.length === 0 && resolvedCreates.length === 0) return;
    const last = lastOfEachKey(written);
    await this.query(`WITH resolved AS (DELETE FROM ${this.s}.pending_creates WHERE object = $1 AND key = ANY($5::text[]))
      INSERT INTO ${this.s}.records (object, key, crm_id, hashes, last_seen, last_written, left_at)
      SELECT $1, k, c, h, $6::bigint, $6::bigint, NULL FROM unnest($2::text[], $3::text[], $4::text[]) AS t(k, c, h) ${SAVE_CONFLICT}`,
    [object, last.map((r) => r.key), last.map((r) => r.crmId), last.map((r) => r.hashesJson), resolvedCreates, this.runId]);
  }

  async departedPage(object: string, afterKey: string, limit: number): Promise<StoredRecord[]> {
    const rows = await this.query<{ key: string; crm_id: string | null; hashes: string }>(`SELECT key, crm_id, hashes FROM ${this.s}.records
      WHERE object = $1 AND last_seen < $2 AND left_at IS NULL AND last_written IS NOT NULL AND key > $3 ORDER BY key LIMIT $4`, [object, this.runId, afterKey, limit]);
    return rows.map((row) => ({ key: row.key, crmId: row.crm_id, hashes: JSON.parse(row.hashes) as Record<string, string> }));
  }

  async segmentCounts(object: string): Promise<{ known: number; departed: number }> {
    const rows = await this.query<{ known: string; departed: string }>(`SELECT count(*) AS known, count(*) FILTER (WHERE last_seen < $2) AS departed
      FROM ${this.s}.records WHERE object = $1 AND left_at IS NULL AND last_written IS NOT NULL`, [object, this.runId]);
    return { known: Number(rows[0].known), departed: Number(rows[0].departed) };
  }

  async markDeparted(object: string, keys: string[]): Promise<void> {
    if (keys.length > 0) await this.query(`UPDATE ${this.s}.records SET left_at = $3 WHERE object = $1 AND key = ANY($2::text[])`, [object, keys, this.runId]);
  }

  async forget(object: string, keys: string[]): Promise<void> {
    if (keys.length > 0) await this.query(`DELETE FROM ${this.s}.records WHERE object = $1 AND key = ANY($2::text[])`, [object, keys]);
  }

  async tableVersion(object: string, stream: string): Promise<string | undefined> {
    const rows = await this.query<{ version: string }>(`SELECT version FROM ${this.s}.table_versions WHERE object = $1 AND stream = $2`, [object, stream]);
    return rows[0]?.version;
  }

  async saveTableVersion(object: string, stream: string, version: string): Promise<void> {
    await this.query(`INSERT INTO ${this.s}.table_versions (object, stream, version) VALUES ($1, $2, $3)
      ON CONFLICT (object, stream) DO UPDATE SET version = excluded.version`, [object, stream, version]);
  }

  async journalCreates(object: string, batchId: string, entries: { key: string; hashesJson: string }[]): Promise<void> {
    if (entries.length === 0) return;
    await this.query(`INSERT INTO ${this.s}.pending_creates (object, key, batch_id, run_id, journaled_at, hashes)
      SELECT $1, k, $2, $3::bigint, $4::bigint, h FROM unnest($5::text[], $6::text[]) AS t(k, h)
      ON CONFLICT (object, key) DO UPDATE SET batch_id = excluded.batch_id, run_id = excluded.run_id, journaled_at = excluded.journaled_at, hashes = excluded.hashes`,
    [object, batchId, this.runId, Date.now(), entries.map((e) => e.key), entries.map((e) => e.hashesJson)]);
  }

  async unresolvedCreates(object: string): Promise<UnresolvedCreate[]> {
    const rows = await this.query<{ key: string; batch_id: string; journaled_at: string; hashes: string; ended: string | null }>(
      `SELECT p.key, p.batch_id, p.journaled_at, p.hashes, (extract(epoch FROM r.finished_at) * 1000)::bigint AS ended FROM ${this.s}.pending_creates p
      LEFT JOIN ${this.s}.runs r ON r.id = p.run_id WHERE p.object = $1 AND p.run_id <> $2 ORDER BY p.key`, [object, this.runId]);
    return rows.map((row) => ({
      key: row.key, batchId: row.batch_id, journaledAt: Number(row.journaled_at), hashesJson: row.hashes,
      runEndedAt: row.ended === null ? undefined : Number(row.ended),
    }));
  }

  async settleCreates(object: string, found: { key: string; crmId: string }[], lost: string[]): Promise<void> {
    if (found.length === 0 && lost.length === 0) return;
    await this.query(`WITH saved AS (
        INSERT INTO ${this.s}.records (object, key, crm_id, hashes, last_seen, last_written, left_at)
        SELECT p.object, p.key, f.c, p.hashes, p.run_id, p.run_id, NULL FROM ${this.s}.pending_creates p
        JOIN unnest($2::text[], $3::text[]) AS f(k, c) ON p.key = f.k WHERE p.object = $1 ${SAVE_CONFLICT})
      DELETE FROM ${this.s}.pending_creates WHERE object = $1 AND key = ANY($4::text[])`,
    [object, found.map((f) => f.key), found.map((f) => f.crmId), [...found.map((f) => f.key), ...lost]]);
  }

  async resolveCreates(object: string, keys: string[]): Promise<void> {
    if (keys.length > 0) await this.query(`DELETE FROM ${this.s}.pending_creates WHERE object = $1 AND key = ANY($2::text[])`, [object, keys]);
  }

  async finishRun(outcome: RunOutcome): Promise<void> {
    await this.query(`UPDATE ${this.s}.runs SET finished_at = now(), outcome = $2 WHERE id = $1`, [this.runId, outcome]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    const lock = this.lockClient;
    this.lockClient = undefined;
    try {
      // The lock goes with its connection; the row only names the holder, for the next refusal.
      if (lock) await lock.query(`DELETE FROM ${this.s}.run_lock WHERE id = 1 AND run_id = $1`, [this.runId]);
    } catch {
      // A row left behind names a holder that is gone: the next run takes the lock all the same.
    } finally {
      await lock?.end().catch(() => undefined);
      await this.pool.end().catch(() => undefined);
    }
  }

  /**
   * One statement on a pooled connection. A connection the server or the network dropped is
   * retried on a fresh one (every statement here may run twice: upserts, deletes, reads); other
   * failures are put in the operator's terms.
   */
  private async query<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values: unknown[]): Promise<Row[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.pool.query<Row>(sql, values)).rows;
      } catch (error) {
        const failure = postgresFailure(this.target, error, 'use');
        if (failure.category !== 'transient' || attempt >= CONNECTION_RETRIES) throw failure;
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
    }
  }
}

/** Creates the schema and tables, or brings an older layout up to date; one opener at a time. */
async function migrate(pool: pg.Pool, target: PostgresTarget, s: string): Promise<void> {
  const client = await pool.connect();
  try {
    const current = await storedVersion(client, target.schema);
    if (current === SCHEMA_VERSION) return;
    if (current > SCHEMA_VERSION) throw tooNew(target, current);
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`crm-activate-migrate:${target.schema}`]);
      // CREATE SCHEMA needs the CREATE privilege on the database even when the schema exists: only when it does not.
      const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [target.schema]);
      if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${s}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.store_info (
        id integer PRIMARY KEY CHECK (id = 1), store_id text NOT NULL, created_at timestamptz NOT NULL, layout integer NOT NULL)`);
      await client.query(`INSERT INTO ${s}.store_info (id, store_id, created_at, layout) VALUES (1, $1, now(), 0) ON CONFLICT (id) DO NOTHING`, [randomUUID()]);
      const { rows } = await client.query<{ layout: number }>(`SELECT layout FROM ${s}.store_info WHERE id = 1 FOR UPDATE`);
      for (let version = rows[0].layout + 1; version <= SCHEMA_VERSION; version++) await client.query(MIGRATIONS[version](s));
      await client.query(`UPDATE ${s}.store_info SET layout = $1 WHERE id = 1`, [SCHEMA_VERSION]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    client.release();
  }
}

/**
 * A dry run's store: the shared tables copied into this session's temporary ones (pg_temp), so
 * the run plans from what the store holds and changes nothing in it, nor creates the schema.
 */
async function copyInSession(pool: pg.Pool, target: PostgresTarget): Promise<string> {
  const client = await pool.connect();
  try {
    const layout = await storedVersion(client, target.schema);
    if (layout > SCHEMA_VERSION) throw tooNew(target, layout);
    await client.query(MIGRATIONS[SCHEMA_VERSION]('pg_temp'));
    if (layout === SCHEMA_VERSION) {
      const s = quoteIdentifier(target.schema);
      for (const table of ['records', 'table_versions', 'runs', 'pending_creates']) await client.query(`INSERT INTO pg_temp.${table} SELECT * FROM ${s}.${table}`);
      await client.query("SELECT setval(pg_get_serial_sequence('pg_temp.runs', 'id'), (SELECT COALESCE(max(id), 0) + 1 FROM pg_temp.runs), false)");
    }
    return 'pg_temp';
  } finally {
    client.release();
  }
}

function tooNew(target: PostgresTarget, layout: number): Error {
  return configError(`the state store at ${target.shown} was made by a newer version of crm-activate (layout ${layout}, this one reads ${SCHEMA_VERSION}): upgrade crm-activate`, { code: 'store_too_new' });
}

/** The layout in the schema: 0 when there is none yet. */
async function storedVersion(client: pg.PoolClient, schema: string): Promise<number> {
  const table = await client.query<{ found: string | null }>("SELECT to_regclass(format('%I.store_info', $1::text))::text AS found", [schema]);
  if (table.rows[0].found === null) return 0;
  const { rows } = await client.query<{ layout: number }>(`SELECT layout FROM ${quoteIdentifier(schema)}.store_info WHERE id = 1`);
  return rows[0]?.layout ?? 0;
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A batch never holds two rows of a key; were it to, the later one is what the CRM holds. */
function lastOfEachKey(written: WrittenRecord[]): WrittenRecord[] {
  const byKey = new Map<string, WrittenRecord>();
  for (const record of written) byKey.set(record.key, record);
  return byKey.size === written.length ? written : [...byKey.values()];
}
