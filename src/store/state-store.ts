// The change-detection store: per CRM object and row key, the CRM record id, a hash per field of
// what was last written successfully, and the last run that saw the key. SQLite in WAL mode so a
// crash loses at most the batch in flight, never the file. Lookups and writes are batched so
// memory stays flat at millions of keys.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { configError } from '../errors.js';

export interface StoredRecord {
  key: string;
  crmId: string | null;
  /** Field name → hash of the value last written successfully. */
  hashes: Record<string, string>;
}

export interface LookedUp extends StoredRecord {
  /** The run that last saw the key in its input. */
  lastSeen: number;
  /** False for keys seen but never written successfully (rejected, not found). */
  written: boolean;
  /** The hashes as stored, JSON: the same text means the same hashes, without parsing it. */
  hashesJson: string;
}

export interface WrittenRecord {
  key: string;
  crmId: string | null;
  /** Field name → hash, as the JSON text to store. */
  hashesJson: string;
}

/** A looked-up record whose hashes are parsed only when asked for: most rows match by their text. */
class StoredHashes implements LookedUp {
  private parsed?: Record<string, string>;

  constructor(
    readonly key: string,
    readonly crmId: string | null,
    readonly hashesJson: string,
    readonly lastSeen: number,
    readonly written: boolean,
  ) {}

  get hashes(): Record<string, string> {
    return (this.parsed ??= JSON.parse(this.hashesJson) as Record<string, string>);
  }
}

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
`;

/** SQLite's default limit on bound parameters is far above this; it keeps statements few and cached. */
export const LOOKUP_CHUNK = 500;
/** Rows per multi-row insert when saving writes (6 parameters each). */
const SAVE_CHUNK = 100;

const SAVE_ROW = '(?, ?, ?, ?, ?, ?, NULL)';
const SAVE_CONFLICT = `ON CONFLICT (object, key) DO UPDATE SET crm_id = COALESCE(excluded.crm_id, crm_id), hashes = excluded.hashes,
  last_seen = excluded.last_seen, last_written = excluded.last_written, left_at = NULL`;
const SEEN_ROW = '(?, ?, ?)';
const SEEN_CONFLICT = 'ON CONFLICT (object, key) DO UPDATE SET last_seen = excluded.last_seen, left_at = NULL';

export class StateStore {
  private readonly db: DatabaseSync;
  // One statement per row count, each binding a whole chunk: a statement run per row cost more
  // than the B-tree work it did. Counts are bounded by the chunk sizes, so the caches stay small.
  private readonly lookupStatements = new Map<number, StatementSync>();
  private readonly saveStatements = new Map<number, StatementSync>();
  private readonly markSeenStatements = new Map<number, StatementSync>();
  private readonly departedStatement: StatementSync;
  private readonly begin: StatementSync;
  private readonly commit: StatementSync;
  private readonly rollback: StatementSync;
  readonly runId: number;

  constructor(path: string) {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new DatabaseSync(path);
    } catch (error) {
      throw configError(`cannot open the state store at ${path}: ${(error as Error).message}`);
    }
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
    this.db.exec(SCHEMA);
    this.departedStatement = this.db.prepare(`SELECT key, crm_id, hashes FROM records
      WHERE object = ? AND last_seen < ? AND left_at IS NULL AND last_written IS NOT NULL AND key > ? ORDER BY key LIMIT ?`);
    this.begin = this.db.prepare('BEGIN');
    this.commit = this.db.prepare('COMMIT');
    this.rollback = this.db.prepare('ROLLBACK');
    const run = this.db.prepare('INSERT INTO runs (started_at) VALUES (?)').run(new Date().toISOString());
    this.runId = Number(run.lastInsertRowid);
  }

  /** The stored records for these keys (at most LOOKUP_CHUNK keys). */
  lookup(object: string, keys: string[]): Map<string, LookedUp> {
    const rows = this.statementFor(this.lookupStatements, keys.length, (count) =>
      `SELECT key, crm_id, hashes, last_seen, last_written FROM records WHERE object = ? AND key IN (${repeat('?', count)})`)
      .all(object, ...keys) as { key: string; crm_id: string | null; hashes: string; last_seen: number; last_written: number | null }[];
    const found = new Map<string, LookedUp>();
    for (const row of rows) found.set(row.key, new StoredHashes(row.key, row.crm_id, row.hashes, row.last_seen, row.last_written !== null));
    return found;
  }

  /** Records that these keys are in this run's input: they have not left the segment. */
  markSeen(object: string, keys: string[]): void {
    if (keys.length === 0) return;
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

  /** Saves what the CRM confirmed, in one transaction. */
  saveWrites(object: string, written: WrittenRecord[]): void {
    if (written.length === 0) return;
    this.transaction(() => {
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
  departedPage(object: string, afterKey: string, limit: number): StoredRecord[] {
    const rows = this.departedStatement.all(object, this.runId, afterKey, limit) as { key: string; crm_id: string | null; hashes: string }[];
    return rows.map((row) => ({ key: row.key, crmId: row.crm_id, hashes: JSON.parse(row.hashes) }));
  }

  /** Records written and still in the segment before this run's departures: how many, and how many this run did not see. */
  segmentCounts(object: string): { known: number; departed: number } {
    const row = this.db.prepare(`SELECT COUNT(*) AS known, COALESCE(SUM(last_seen < ?), 0) AS departed FROM records
      WHERE object = ? AND left_at IS NULL AND last_written IS NOT NULL`).get(this.runId, object) as { known: number; departed: number };
    return { known: Number(row.known), departed: Number(row.departed) };
  }

  /** The Singer table version (ACTIVATE_VERSION) last announced for this object's stream, in any run. */
  tableVersion(object: string, stream: string): string | undefined {
    const row = this.db.prepare('SELECT version FROM table_versions WHERE object = ? AND stream = ?').get(object, stream) as { version: string } | undefined;
    return row?.version;
  }

  saveTableVersion(object: string, stream: string, version: string): void {
    this.db.prepare(`INSERT INTO table_versions (object, stream, version) VALUES (?, ?, ?)
      ON CONFLICT (object, stream) DO UPDATE SET version = excluded.version`).run(object, stream, version);
  }

  /** A key that left the segment and was handled (ignored, cleared): not reported again. */
  markDeparted(object: string, keys: string[]): void {
    const statement = this.db.prepare(`UPDATE records SET left_at = ? WHERE object = ? AND key = ?`);
    this.transaction(() => keys.forEach((key) => statement.run(this.runId, object, key)));
  }

  /** An archived or deleted record is forgotten: if its key comes back it is a new record. */
  forget(object: string, keys: string[]): void {
    const statement = this.db.prepare('DELETE FROM records WHERE object = ? AND key = ?');
    this.transaction(() => keys.forEach((key) => statement.run(object, key)));
  }

  finishRun(outcome: 'succeeded' | 'failed'): void {
    this.db.prepare('UPDATE runs SET finished_at = ?, outcome = ? WHERE id = ?').run(new Date().toISOString(), outcome, this.runId);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  private transaction(work: () => void): void {
    this.begin.run();
    try {
      work();
      this.commit.run();
    } catch (error) {
      this.rollback.run();
      throw error;
    }
  }

  private statementFor(cache: Map<number, StatementSync>, count: number, sql: (count: number) => string): StatementSync {
    let statement = cache.get(count);
    if (!statement) {
      statement = this.db.prepare(sql(count));
      cache.set(count, statement);
    }
    return statement;
  }
}

function repeat(part: string, count: number): string {
  return new Array(count).fill(part).join(', ');
}
