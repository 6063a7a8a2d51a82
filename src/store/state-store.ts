// The change-detection store: per CRM object and row key, the CRM record id, a hash per field of
// what was last written successfully, and which keys this run saw (a temporary table). SQLite in WAL mode so a
// crash loses at most the batch in flight, never the file. Lookups and writes are batched so
// memory stays flat at millions of keys. It also holds what keeps runs safe in production: the run
// lock (one run at a time), the create journal (inserts the CRM cannot refuse twice), its own
// identity with a marker file beside it (a lost store is noticed), and failures put in the
// operator's terms (store-errors.ts).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { asConnectorError, bugError, configError, ConnectorError } from '../errors.js';
import { currentHolder, describeHolder, diedBy, HEARTBEAT_MS, mayBeAlive, STALE_AFTER_MS, type LockHolder } from './run-lock.js';
import { storeFailure, writeAccessProblem } from './store-errors.js';
import { LOOKUP_CHUNK, StoredHashes, type ChangeStore, type LookedUp, type RunOutcome, type StoredRecord, type UnresolvedCreate, type WrittenRecord } from './store.js';

export type { LookedUp, StoredRecord, UnresolvedCreate, WrittenRecord } from './store.js';
export { LOOKUP_CHUNK } from './store.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS records (
    object      TEXT NOT NULL,
    key         TEXT NOT NULL,
    crm_id      TEXT,
    hashes      TEXT NOT NULL DEFAULT '{}',
    last_seen   INTEGER NOT NULL,
    last_written INTEGER,
    left_at     INTEGER,
    PRIMARY KEY (object, key)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS table_versions (
    object      TEXT NOT NULL,
    stream      TEXT NOT NULL,
    version     TEXT NOT NULL,
    PRIMARY KEY (object, stream)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    outcome     TEXT
  );
  -- At most one row: the run that holds the store (see run-lock.ts).
  CREATE TABLE IF NOT EXISTS run_lock (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    run_id        INTEGER NOT NULL,
    pid           INTEGER NOT NULL,
    host          TEXT NOT NULL,
    machine       TEXT NOT NULL,
    process_start TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    heartbeat_at  INTEGER NOT NULL
  );
  -- This store's identity: a store made afresh where the marker names another was lost.
  CREATE TABLE IF NOT EXISTS store_info (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    store_id   TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  -- Write-ahead journal of creates the CRM cannot match again by a unique key: committed before
  -- the request, resolved when its answer is recorded.
  CREATE TABLE IF NOT EXISTS pending_creates (
    object       TEXT NOT NULL,
    key          TEXT NOT NULL,
    batch_id     TEXT NOT NULL,
    run_id       INTEGER NOT NULL,
    journaled_at INTEGER NOT NULL,
    hashes       TEXT NOT NULL,
    PRIMARY KEY (object, key)
  ) WITHOUT ROWID;
`;

/** Rows per multi-row insert when saving writes (6 parameters each). */
const SAVE_CHUNK = 100;

const SAVE_ROW = '(?, ?, ?, ?, ?, ?, NULL)';
const SAVE_CONFLICT = `ON CONFLICT (object, key) DO UPDATE SET crm_id = COALESCE(excluded.crm_id, crm_id), hashes = excluded.hashes,
  last_seen = excluded.last_seen, last_written = excluded.last_written, left_at = NULL`;
const SEEN_ROW = '(?, ?, ?)';
// A key the store holds keeps its row as it is unless it had left the segment: this run's seen
// keys are in the temporary table below, so a rerun does not rewrite every row it reads.
const SEEN_CONFLICT = 'ON CONFLICT (object, key) DO UPDATE SET last_seen = excluded.last_seen, left_at = NULL WHERE left_at IS NOT NULL';

/**
 * The keys this run saw, per object: what tells departures from keys still in the segment. In the
 * connection's temporary database (it dies with the run, as a run's seen set must: only the run
 * that read the whole segment can say who left it), so marking a key costs a small insert there
 * instead of rewriting its row, hashes and all, through the WAL.
 */
const SEEN_SCHEMA = `CREATE TEMP TABLE IF NOT EXISTS seen (object TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (object, key)) WITHOUT ROWID`;
const SEEN_KEY = '(?, ?)';
/** The record was not seen by this run (its row in records may predate the run or be written by it). */
const NOT_SEEN_NOW = 'NOT EXISTS (SELECT 1 FROM temp.seen s WHERE s.object = records.object AND s.key = records.key)';

/**
 * The marker beside the store (state.db.id): which store wrote which CRM objects, and when its
 * last run ended. It outlives the store file when only that is lost (deleted, emptied, a fresh
 * volume for the file but not its folder), so the next run knows it is not a first run.
 */
interface StoreMarker {
  store: string;
  objects: string[];
  /** When the last run on the store ended cleanly; null while one runs (or after one died). */
  runEndedAt: string | null;
}

/** The local store: synchronous inside (node:sqlite), so each promise is already settled when returned. */
export class StateStore implements ChangeStore {
  private readonly db: DatabaseSync;
  // One statement per row count, each binding a whole chunk: a statement run per row cost more
  // than the B-tree work it did. Counts are bounded by the chunk sizes, so the caches stay small.
  private readonly lookupStatements = new Map<number, StatementSync>();
  private readonly saveStatements = new Map<number, StatementSync>();
  private readonly markSeenStatements = new Map<number, StatementSync>();
  private readonly seenStatements = new Map<number, StatementSync>();
  private readonly departedStatement: StatementSync;
  private readonly begin: StatementSync;
  private readonly commit: StatementSync;
  private readonly rollback: StatementSync;
  readonly runId: number;

  private heartbeat?: NodeJS.Timeout;
  private lockHeld = false;
  readonly storeId: string;
  /** Kept by runs that hold the lock (never by dry runs and scratch stores). */
  private marker?: StoreMarker;
  private vanished: { objects: string[]; runEndedAt?: number } = { objects: [] };

  /** False for a store that dies with the run (change_detection crm): nothing in it reaches the next run. */
  readonly durable: boolean;

  /** The store messages name: a dry run's copy names the store it copies, which the operator knows. */
  private readonly shownPath: string;

  /** scratch: dies with the run; copyOf: a copy of that store (a dry run's). */
  constructor(readonly path: string, options: { scratch?: boolean; copyOf?: string } = {}) {
    const onDisk = path !== ':memory:';
    this.durable = onDisk && options.scratch !== true && options.copyOf === undefined;
    this.shownPath = options.copyOf ?? path;
    const problem = onDisk ? writeAccessProblem(path) : undefined;
    if (problem) throw configError(problem, { code: 'store_not_writable' });
    try {
      if (onDisk) mkdirSync(dirname(path), { recursive: true });
      this.db = new DatabaseSync(path);
    } catch (error) {
      throw this.failure(error, 'cannot open');
    }
    try {
      this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
      this.db.exec(SCHEMA);
      this.db.exec(SEEN_SCHEMA);
      this.departedStatement = this.db.prepare(`SELECT key, crm_id, hashes FROM records
        WHERE object = ? AND last_seen < ? AND left_at IS NULL AND last_written IS NOT NULL AND key > ? AND ${NOT_SEEN_NOW} ORDER BY key LIMIT ?`);
      this.begin = this.db.prepare('BEGIN');
      this.commit = this.db.prepare('COMMIT');
      this.rollback = this.db.prepare('ROLLBACK');
      this.db.prepare('INSERT OR IGNORE INTO store_info (id, store_id, created_at) VALUES (1, ?, ?)').run(randomUUID(), new Date().toISOString());
      this.storeId = String((this.db.prepare('SELECT store_id FROM store_info WHERE id = 1').get() as { store_id: string }).store_id);
      const run = this.db.prepare('INSERT INTO runs (started_at) VALUES (?)').run(new Date().toISOString());
      this.runId = Number(run.lastInsertRowid);
    } catch (error) {
      this.db.close();
      throw this.failure(error, 'cannot open');
    }
  }

  /**
   * Takes the store for this run: refused (a config error naming the holder) while another run
   * may be using it; a holder that is gone is taken over. Held until close(), with a heartbeat.
   * Answers the run taken over from, for a warning.
   */
  async acquireRunLock(onLost?: (message: string) => void): Promise<string | undefined> {
    return this.guard(() => {
      const now = Date.now();
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const holder = this.lockHolder();
        if (holder && mayBeAlive(holder, now)) {
          throw configError(`another run is using the state store at ${resolve(this.path)} (${describeHolder(holder, now)}); runs on one store must not overlap: wait for it to finish or stop it (a holder that died is taken over at once on its own host, else ${Math.round(STALE_AFTER_MS / 1000)}s after its last heartbeat)`, { code: 'store_locked' });
        }
        if (holder) this.db.prepare("UPDATE runs SET finished_at = ?, outcome = 'died' WHERE id = ? AND finished_at IS NULL").run(new Date(diedBy(holder, now)).toISOString(), holder.runId);
        const me = currentHolder(this.runId, now);
        this.db.prepare(`INSERT OR REPLACE INTO run_lock (id, run_id, pid, host, machine, process_start, started_at, heartbeat_at)
          VALUES (1, ?, ?, ?, ?, ?, ?, ?)`).run(me.runId, me.pid, me.host, me.machine, me.processStart, me.startedAt, me.heartbeatAt);
        this.db.exec('COMMIT');
        this.lockHeld = true;
        this.startHeartbeat(onLost);
        this.checkMarker();
        return holder ? describeHolder(holder, now) : undefined;
      } catch (error) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        if (error instanceof ConnectorError && error.code === 'store_locked') this.finishRunNow('refused');
        throw error;
      }
    });
  }

  /**
   * CRM objects an earlier run wrote (per the marker) of which this store holds nothing: the store
   * they were recorded in was lost. With when that store's last run ended, when the marker knows.
   */
  vanishedObjects(): { objects: string[]; runEndedAt?: number } {
    return this.vanished;
  }

  private checkMarker(): void {
    const markerPath = `${this.path}.id`;
    let earlier: StoreMarker | undefined;
    try {
      if (existsSync(markerPath)) earlier = JSON.parse(readFileSync(markerPath, 'utf8')) as StoreMarker;
    } catch (error) {
      throw configError(`the marker ${resolve(markerPath)} beside the state store cannot be read (${(error as Error).message}); move it aside if the store is intact`, { cause: error });
    }
    const objects = new Set(earlier?.objects ?? []);
    const has = this.db.prepare('SELECT 1 FROM records WHERE object = ? AND last_written IS NOT NULL LIMIT 1');
    const lost = [...objects].filter((object) => has.get(object) === undefined);
    const endedAt = earlier?.runEndedAt ? Date.parse(earlier.runEndedAt) : undefined;
    this.vanished = { objects: lost, runEndedAt: endedAt };
    this.marker = { store: this.storeId, objects: [...objects], runEndedAt: null };
    this.writeMarker();
  }

  private noteWritten(object: string): void {
    if (!this.marker || this.marker.objects.includes(object)) return;
    this.marker.objects.push(object);
    this.writeMarker();
  }

  private writeMarker(): void {
    const markerPath = `${this.path}.id`;
    this.guard(() => {
      writeFileSync(`${markerPath}.tmp`, `${JSON.stringify(this.marker)}\n`);
      renameSync(`${markerPath}.tmp`, markerPath);
    });
  }

  private lockHolder(): LockHolder | undefined {
    const row = this.db.prepare('SELECT * FROM run_lock WHERE id = 1').get() as Record<string, string | number> | undefined;
    if (!row) return undefined;
    return {
      runId: Number(row.run_id), pid: Number(row.pid), host: String(row.host), machine: String(row.machine),
      processStart: String(row.process_start), startedAt: String(row.started_at), heartbeatAt: Number(row.heartbeat_at),
    };
  }

  /** Refreshes the holder's sign of life; a run whose lock was taken over is told (it must stop). */
  private startHeartbeat(onLost?: (message: string) => void): void {
    const beat = this.db.prepare('UPDATE run_lock SET heartbeat_at = ? WHERE id = 1 AND run_id = ?');
    this.heartbeat = setInterval(() => {
      let message: string | undefined;
      try {
        if (beat.run(Date.now(), this.runId).changes === 0) message = `the lock on the state store at ${resolve(this.path)} was taken over by another run`;
      } catch (error) {
        message = `the state store at ${resolve(this.path)} could not record this run's heartbeat: ${asConnectorError(this.failure(error, 'cannot write')).message}`;
      }
      if (message) {
        clearInterval(this.heartbeat);
        this.lockHeld = false;
        onLost?.(message);
      }
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** The stored records for these keys (at most LOOKUP_CHUNK keys). */
  async lookup(object: string, keys: string[], options: { markFoundSeen?: boolean } = {}): Promise<Map<string, LookedUp>> {
    return this.guard(() => {
      const { found, returning } = this.lookupUnguarded(object, keys);
      if (options.markFoundSeen) {
        this.noteSeen(object, [...found.keys()]);
        // A key that had left the segment and is back: its row must say so (rare, so one row at a time).
        if (returning.length > 0) this.transaction(() => returning.forEach((key) => this.returnedStatement().run(this.runId, object, key)));
      }
      return found;
    });
  }

  private lookupUnguarded(object: string, keys: string[]): { found: Map<string, LookedUp>; returning: string[] } {
    const statement = this.statementFor(this.lookupStatements, keys.length, (count) =>
      `SELECT key, crm_id, hashes, last_seen, last_written, left_at FROM records WHERE object = ? AND key IN (${repeat('?', count)})`, true);
    const found = new Map<string, LookedUp>();
    const returning: string[] = [];
    for (const row of statement.all(object, ...keys) as unknown as LookupRow[]) {
      const [key, crmId, hashes, lastSeen, lastWritten, leftAt] = Array.isArray(row) ? row : lookupColumns(row);
      found.set(key, new StoredHashes(key, crmId, hashes, lastSeen, lastWritten !== null));
      if (leftAt !== null) returning.push(key);
    }
    return { found, returning };
  }

  private returnedStatement(): StatementSync {
    return this.statementFor(this.markSeenStatements, 0, () => 'UPDATE records SET last_seen = ?, left_at = NULL WHERE object = ? AND key = ?');
  }

  /**
   * Records that these keys are in this run's input: they have not left the segment. A key the
   * store does not hold gets a row (seen, never written), as the next run's lookup tells.
   */
  async markSeen(object: string, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    this.guard(() => this.noteSeen(object, keys));
    this.transaction(() => {
      for (let from = 0; from < keys.length; from += LOOKUP_CHUNK) {
        const chunk = keys.slice(from, from + LOOKUP_CHUNK);
        const values: (string | number)[] = [];
        for (const key of chunk) values.push(object, key, this.runId);
        this.statementFor(this.markSeenStatements, chunk.length, (count) =>
          `INSERT INTO records (object, key, last_seen) VALUES ${repeat(SEEN_ROW, count)} ${SEEN_CONFLICT}`).run(...values);
      }
    });
  }

  /** Adds keys to this run's seen set (the temporary table). */
  private noteSeen(object: string, keys: string[]): void {
    for (let from = 0; from < keys.length; from += LOOKUP_CHUNK) {
      const chunk = keys.slice(from, from + LOOKUP_CHUNK);
      const values: string[] = [];
      for (const key of chunk) values.push(object, key);
      this.statementFor(this.seenStatements, chunk.length, (count) =>
        `INSERT OR IGNORE INTO temp.seen (object, key) VALUES ${repeat(SEEN_KEY, count)}`).run(...values);
    }
  }

  /** Saves what the CRM confirmed, in one transaction. */
  async saveWrites(object: string, written: WrittenRecord[], resolvedCreates: string[] = []): Promise<void> {
    if (written.length === 0 && resolvedCreates.length === 0) return;
    if (written.length > 0) this.noteWritten(object);
    this.transaction(() => {
      this.deleteJournalEntries(object, resolvedCreates);
      for (let from = 0; from < written.length; from += SAVE_CHUNK) {
        const chunk = written.slice(from, from + SAVE_CHUNK);
        const values: (string | number | null)[] = [];
        for (const record of chunk) values.push(object, record.key, record.crmId, record.hashesJson, this.runId, this.runId);
        this.statementFor(this.saveStatements, chunk.length, (count) =>
          `INSERT INTO records (object, key, crm_id, hashes, last_seen, last_written, left_at) VALUES ${repeat(SAVE_ROW, count)} ${SAVE_CONFLICT}`).run(...values);
      }
    });
  }

  /** Keys written before but absent from this (complete) run, not yet handled; a page after `afterKey`. */
  async departedPage(object: string, afterKey: string, limit: number): Promise<StoredRecord[]> {
    const rows = this.guard(() => this.departedStatement.all(object, this.runId, afterKey, limit)) as { key: string; crm_id: string | null; hashes: string }[];
    return rows.map((row) => ({ key: row.key, crmId: row.crm_id, hashes: JSON.parse(row.hashes) }));
  }

  /** Records written and still in the segment before this run's departures: how many, and how many this run did not see. */
  async segmentCounts(object: string): Promise<{ known: number; departed: number }> {
    const row = this.db.prepare(`SELECT COUNT(*) AS known, COALESCE(SUM(last_seen < ? AND ${NOT_SEEN_NOW}), 0) AS departed FROM records
      WHERE object = ? AND left_at IS NULL AND last_written IS NOT NULL`).get(this.runId, object) as { known: number; departed: number };
    return { known: Number(row.known), departed: Number(row.departed) };
  }

  /** The Singer table version (ACTIVATE_VERSION) last announced for this object's stream, in any run. */
  async tableVersion(object: string, stream: string): Promise<string | undefined> {
    const row = this.db.prepare('SELECT version FROM table_versions WHERE object = ? AND stream = ?').get(object, stream) as { version: string } | undefined;
    return row?.version;
  }

  async saveTableVersion(object: string, stream: string, version: string): Promise<void> {
    this.db.prepare(`INSERT INTO table_versions (object, stream, version) VALUES (?, ?, ?)
      ON CONFLICT (object, stream) DO UPDATE SET version = excluded.version`).run(object, stream, version);
  }

  /** A key that left the segment and was handled (ignored, cleared): not reported again. */
  async markDeparted(object: string, keys: string[]): Promise<void> {
    const statement = this.guard(() => this.db.prepare(`UPDATE records SET left_at = ? WHERE object = ? AND key = ?`));
    this.transaction(() => keys.forEach((key) => statement.run(this.runId, object, key)));
  }

  /** An archived or deleted record is forgotten: if its key comes back it is a new record. */
  async forget(object: string, keys: string[]): Promise<void> {
    const statement = this.guard(() => this.db.prepare('DELETE FROM records WHERE object = ? AND key = ?'));
    this.transaction(() => keys.forEach((key) => statement.run(object, key)));
  }

  async finishRun(outcome: RunOutcome): Promise<void> {
    this.finishRunNow(outcome);
  }

  private finishRunNow(outcome: RunOutcome): void {
    this.guard(() => this.db.prepare('UPDATE runs SET finished_at = ?, outcome = ? WHERE id = ?').run(new Date().toISOString(), outcome, this.runId));
  }

  /**
   * Write-ahead: records that these keys' rows are about to be created, committed before the
   * request goes out, so a run that dies before recording the answer leaves them to be settled.
   */
  async journalCreates(object: string, batchId: string, entries: { key: string; hashesJson: string }[]): Promise<void> {
    if (entries.length === 0) return;
    const statement = this.guard(() => this.db.prepare(`INSERT INTO pending_creates (object, key, batch_id, run_id, journaled_at, hashes)
      VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (object, key) DO UPDATE SET batch_id = excluded.batch_id, run_id = excluded.run_id,
      journaled_at = excluded.journaled_at, hashes = excluded.hashes`));
    const now = Date.now();
    this.transaction(() => entries.forEach((entry) => statement.run(object, entry.key, batchId, this.runId, now, entry.hashesJson)));
  }

  /** The journal entries whose answer was never recorded (they are for creates an earlier run sent, or meant to). */
  async unresolvedCreates(object: string): Promise<UnresolvedCreate[]> {
    const rows = this.guard(() => this.db.prepare(`SELECT p.key, p.batch_id, p.journaled_at, p.hashes, r.finished_at FROM pending_creates p
      LEFT JOIN runs r ON r.id = p.run_id WHERE p.object = ? AND p.run_id <> ? ORDER BY p.key`).all(object, this.runId)) as
      { key: string; batch_id: string; journaled_at: number; hashes: string; finished_at: string | null }[];
    return rows.map((row) => ({
      key: row.key, batchId: row.batch_id, journaledAt: row.journaled_at, hashesJson: row.hashes,
      runEndedAt: row.finished_at === null ? undefined : Date.parse(row.finished_at),
    }));
  }

  /**
   * Settles journal entries: a create found in the CRM is recorded as written (with the hashes of
   * the row that was sent, by the run that sent it); one not found is forgotten, so it is sent again.
   */
  async settleCreates(object: string, found: { key: string; crmId: string }[], lost: string[]): Promise<void> {
    const save = this.guard(() => this.db.prepare(`INSERT INTO records (object, key, crm_id, hashes, last_seen, last_written, left_at)
      SELECT object, key, ?, hashes, run_id, run_id, NULL FROM pending_creates WHERE object = ? AND key = ? ${SAVE_CONFLICT}`));
    if (found.length > 0) this.noteWritten(object);
    this.transaction(() => {
      for (const { key, crmId } of found) save.run(crmId, object, key);
      this.deleteJournalEntries(object, [...found.map((entry) => entry.key), ...lost]);
    });
  }

  /** Creates whose answer came back and was recorded otherwise (refused, skipped): nothing left to settle. */
  async resolveCreates(object: string, keys: string[]): Promise<void> {
    if (keys.length > 0) this.transaction(() => this.deleteJournalEntries(object, keys));
  }

  private deleteJournalEntries(object: string, keys: string[]): void {
    if (keys.length === 0) return;
    const statement = this.db.prepare('DELETE FROM pending_creates WHERE object = ? AND key = ?');
    for (const key of keys) statement.run(object, key);
  }

  /** Synchronous inside: done when it returns. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    if (!this.db.isOpen) return;
    try {
      if (this.lockHeld) this.db.prepare('DELETE FROM run_lock WHERE id = 1 AND run_id = ?').run(this.runId);
      if (this.lockHeld && this.marker) {
        this.marker.runEndedAt = new Date().toISOString();
        this.writeMarker();
      }
    } catch {
      // A lock row left behind (a full disk) is taken over by the next run: this process is gone by then.
    } finally {
      this.lockHeld = false;
      this.db.close();
    }
  }

  /** Runs store work, turning what the file system or SQLite says into the operator's terms. */
  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw this.failure(error, 'cannot use');
    }
  }

  /** Opening, an unknown failure is the file's (as before); later, one nobody explained is ours. */
  private failure(error: unknown, what: 'cannot open' | 'cannot use' | 'cannot write'): ConnectorError {
    if (error instanceof ConnectorError) return error;
    const explained = storeFailure(this.shownPath, error);
    if (explained) return explained;
    const message = `${what} the state store at ${resolve(this.shownPath)}: ${(error as Error).message}`;
    return what === 'cannot open' ? configError(message, { cause: error }) : bugError(message, { cause: error });
  }

  private transaction(work: () => void): void {
    this.guard(() => {
      this.begin.run();
      try {
        work();
        this.commit.run();
      } catch (error) {
        // SQLite may have rolled back already (a full disk does): a second rollback would hide the cause.
        if (this.db.isTransaction) this.rollback.run();
        throw error;
      }
    });
  }

  /** arrays: rows come as arrays of columns where this Node can (24+): a third less CPU than objects for a lookup. */
  private statementFor(cache: Map<number, StatementSync>, count: number, sql: (count: number) => string, arrays = false): StatementSync {
    let statement = cache.get(count);
    if (!statement) {
      statement = this.db.prepare(sql(count));
      if (arrays && typeof statement.setReturnArrays === 'function') statement.setReturnArrays(true);
      cache.set(count, statement);
    }
    return statement;
  }
}

/** A lookup's columns: key, crm_id, hashes, last_seen, last_written, left_at. */
type LookupColumns = [string, string | null, string, number, number | null, number | null];
type LookupRow = LookupColumns | { key: string; crm_id: string | null; hashes: string; last_seen: number; last_written: number | null; left_at: number | null };

function lookupColumns(row: Exclude<LookupRow, LookupColumns>): LookupColumns {
  return [row.key, row.crm_id, row.hashes, row.last_seen, row.last_written, row.left_at];
}

function repeat(part: string, count: number): string {
  return new Array(count).fill(part).join(', ');
}
